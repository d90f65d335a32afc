export const SHOTS: [file: string, hash: string, selector: string | null][];
export function takeScreenshots(o: { url: string; key: string; out: string }): Promise<string[]>;
