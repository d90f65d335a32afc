/** Sortable, prefixed ids: `<prefix>_<ULID>` (48-bit ms time + 80 random bits, Crockford base32). */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newId(prefix: string, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let rand = '';
  for (let i = 0; i < 16; i++) rand += ALPHABET[bytes[i] % 32];
  return `${prefix}_${time}${rand}`;
}

/** `bytes` random bytes in standard base64 (Standard Webhooks secrets are `whsec_` + this). */
export function randomBase64(bytes: number): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes))));
}

/** `bytes` random bytes in unpadded base64url: for secrets and tokens that travel in headers and URLs. */
export function randomBase64Url(bytes: number): string {
  return randomBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
