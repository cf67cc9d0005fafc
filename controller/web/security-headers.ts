import type Koa from 'koa';
import helmet from 'koa-helmet';

/**
 * Helmet's headers with a CSP that allows no inline script or style: the pages load /static/app.js and
 * /static/app.css only. Avatars come from the login providers over https; forms post only here.
 */
export function securityHeaders(): Koa.Middleware {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'https:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // The pages link to providers' avatars; no referrer leaks a path to them.
    referrerPolicy: { policy: 'same-origin' },
    // HSTS only means something over https, which a proxy in front decides; it sets its own.
    strictTransportSecurity: false,
  }) as Koa.Middleware;
}
