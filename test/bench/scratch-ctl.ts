import { fileURLToPath } from 'node:url';
import { startControllerProcess } from '../helpers/controller-process.js';
import { makeOodHome } from '../helpers/ood-home.js';
const TICKS = { fastTick: '200ms', slowTick: '5s', playerProbe: '1s', backoff: '1s', maxBackoff: '1m' };
const home = await makeOodHome({ reconcile: TICKS, server: { lobby: { mode: 'wake', host: '127.0.0.1' } } });
const c = await startControllerProcess(home.configPath, {}, fileURLToPath(new URL('../../dist/ood.mjs', import.meta.url)));
console.log(JSON.stringify({ port: home.gamePort, pid: c.pid }));
process.on('SIGTERM', async () => { await c.stop(); await home.cleanup(); process.exit(0); });
setInterval(() => {}, 1000);
