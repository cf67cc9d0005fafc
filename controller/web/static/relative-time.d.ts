// Types of relative-time.js, the one time formatter the server and the page script share.
export declare const NOW_MS: number;
export declare function amount(seconds: number): string;
export declare function wholeSeconds(ms: number, future: boolean): number;
export declare function relative(at: number, now: number): string;
export declare function since(at: number, now: number): string;
export declare function eta(at: number, now: number): string;
export type RelativeKind = '' | 'since' | 'eta';
export declare function wordsFor(kind: RelativeKind | string, at: number, now: number): string;
