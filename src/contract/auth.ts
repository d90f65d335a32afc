/** Who is calling: API keys' scopes and the principal a request authenticates as (api/auth.ts). */

export const SCOPES = ['read', 'write', 'runner', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  kind: 'key' | 'admin-token';
  /** The key's project (null for the admin token). */
  projectId: string | null;
  scopes: readonly Scope[];
  /** Names the rate-limit bucket. */
  keyId: string;
  rateLimitPerMinute: number | null;
}
