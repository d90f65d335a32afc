/**
 * Webhook-triggered studies: templates (a stored study body with
 * {{placeholders}} in its name and metadata), triggers (a template, a secret
 * and a filter), and the deliveries that arrive at POST /hooks/{trigger_id}.
 *
 * A delivery is verified either as GitHub signs it (X-Hub-Signature-256:
 * sha256=HMAC-SHA256(secret, body)) or as a Standard Webhook (webhook-id,
 * webhook-timestamp within 5 minutes, webhook-signature v1,<base64 HMAC>);
 * then matched against the filter; a matching event creates the study from
 * the template. A delivery id seen before answers what it answered then, so
 * a redelivered event never creates a second study. A study with the edge
 * executor starts running at once.
 */
import { Webhook } from 'standardwebhooks';
import { newId, randomBase64, randomBase64Url } from '../lib/ids';
import { DomainError, inputError } from '../contract/errors';
import { boundsStatus } from '../lib/json-bounds';
import type { z } from 'zod';
import type { Narrow } from '../lib/types';
import {
  StudyCreateSchema,
  type HookAnswerSchema,
  type StudyCreate,
  type TemplateSchema,
  type TriggerCreateSchema,
  type TriggerSchema,
} from '../contract/schemas';
import { issuesDetail, zodIssues } from '../contract/issues';
import { closest } from '../lib/names';
import {
  findHookDelivery,
  findTemplate,
  findTrigger,
  findTriggerById,
  insertHookDelivery,
  insertTemplate,
  insertTrigger,
  updateHookDelivery,
  type HookDeliveryRow,
  type TemplateRow,
  type TriggerRow,
} from '../db/hooks';
import { createStudy, run, validateStudy } from './studies';

/**
 * A trigger's filter, every list filled (the Trigger schema's `filter`); an empty list matches
 * anything. events: GitHub's X-GitHub-Event values, or a Standard Webhook's `type`; branches: a
 * push's branch or a pull request's base branch; labels: at least one of them on the pull request
 * (or the label just added); actions: the payload's `action` (opened, labeled, ...). GitHub's
 * deliveries are matched on all four, Standard Webhooks' on events and branches.
 */
export type TriggerFilter = z.output<typeof TriggerSchema>['filter'];

const templateView = (t: TemplateRow): z.output<typeof TemplateSchema> => ({
  id: t.id,
  name: t.name,
  study: t.study as Record<string, unknown>,
  created_at: t.createdAt.toISOString(),
});
const triggerView = (t: TriggerRow): z.output<typeof TriggerSchema> => ({
  id: t.id,
  template_id: t.templateId,
  kind: t.kind,
  filter: t.filter as TriggerFilter,
  url: `/hooks/${t.id}`,
  created_at: t.createdAt.toISOString(),
});

export async function createTemplate(env: Env, projectId: string, name: string, study: unknown) {
  // Validate it as a study body now (placeholders are plain strings to the schema), so a bad
  // template fails here and not when an event arrives.
  const parsed = StudyCreateSchema.safeParse(study);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error, ['study']);
    const status = boundsStatus(parsed.error);
    throw inputError(issues, {
      kind: status === 413 ? 'too_large' : 'invalid',
      what: 'the template',
    });
  }
  const { issues } = validateStudy(parsed.data);
  if (issues.length > 0) {
    const withPrefix = issues.map((i) => ({ path: `study.${i.path}`, message: i.message }));
    throw inputError(withPrefix, { what: 'the template' });
  }
  const row: TemplateRow = {
    id: newId('tpl'),
    projectId,
    name,
    study: study as object,
    createdAt: new Date(),
  };
  await insertTemplate(env.DB, row);
  return templateView(row);
}

export async function getTemplate(env: Env, projectId: string, id: string) {
  const t = await findTemplate(env.DB, projectId, id);
  if (!t) throw new DomainError('not_found', `no template with id '${id}'`);
  return templateView(t);
}

export async function createTrigger(
  env: Env,
  projectId: string,
  body: z.output<typeof TriggerCreateSchema>,
) {
  const template = await findTemplate(env.DB, projectId, body.template_id);
  if (!template) {
    throw new DomainError('invalid', `template_id: no template with id '${body.template_id}'`, {
      issues: [{ path: 'template_id', message: `no template with id '${body.template_id}'` }],
    });
  }
  if (body.kind === 'github') {
    // GitHub deliveries fill a known set of variables: a placeholder outside it could never be filled.
    const unknown = [...placeholdersOf(template.study as Record<string, unknown>)].filter(
      (k) => !(GITHUB_VARS as readonly string[]).includes(k),
    );
    if (unknown.length > 0) {
      const issues = unknown.map((k) => {
        const near = closest(k, GITHUB_VARS);
        return {
          path: 'template_id',
          message: `the template's placeholder {{${k}}} is not filled by GitHub events${near ? `: did you mean {{${near}}}?` : ` (they fill: ${GITHUB_VARS.join(', ')})`}`,
        };
      });
      throw inputError(issues);
    }
  }
  const secret =
    body.secret ?? (body.kind === 'standard' ? `whsec_${randomBase64(24)}` : randomBase64Url(24));
  if (body.kind === 'standard') {
    try {
      new Webhook(secret);
    } catch {
      throw new DomainError(
        'invalid',
        'secret: a Standard Webhooks secret is whsec_ followed by base64',
        { issues: [{ path: 'secret', message: 'expected whsec_<base64>' }] },
      );
    }
  }
  const filter: TriggerFilter = {
    events: body.filter.events ?? [],
    branches: body.filter.branches ?? [],
    labels: body.filter.labels ?? [],
    actions: body.filter.actions ?? [],
  };
  const row: TriggerRow = {
    id: newId('trg'),
    projectId,
    templateId: body.template_id,
    kind: body.kind,
    filter,
    secret,
    createdAt: new Date(),
  };
  await insertTrigger(env.DB, row);
  return { ...triggerView(row), secret };
}

export async function getTrigger(env: Env, projectId: string, id: string) {
  const t = await findTrigger(env.DB, projectId, id);
  if (!t) throw new DomainError('not_found', `no trigger with id '${id}'`);
  return triggerView(t);
}

/** What a delivery answers (the HookAnswer schema): the study it created, or why it was ignored. */
export type HookAnswer =
  | Narrow<z.output<typeof HookAnswerSchema>, { status: 'created'; study_id: string }>
  | Narrow<z.output<typeof HookAnswerSchema>, { status: 'ignored'; reason: string }>;

/** What a verified event says, for the filter and the placeholders. */
interface EventContext {
  deliveryId: string;
  event: string;
  vars: Record<string, string>;
  /** Why it does not match the trigger's filter (null: it matches). */
  mismatch: string | null;
}

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

function githubContext(
  headers: Headers,
  payload: Record<string, any>,
  filter: TriggerFilter,
): EventContext {
  const event = headers.get('x-github-event') ?? '';
  const deliveryId = headers.get('x-github-delivery') ?? '';
  const pr = payload.pull_request;
  const ref = str(payload.ref) || str(pr?.head?.ref);
  const branch = payload.ref ? str(payload.ref).replace(/^refs\/heads\//, '') : str(pr?.base?.ref);
  const labels: string[] = [
    ...(pr?.labels ?? []).map((l: any) => str(l?.name)),
    ...(payload.label ? [str(payload.label.name)] : []),
  ].filter(Boolean);
  const vars: Record<string, string> = {
    event,
    action: str(payload.action),
    repository: str(payload.repository?.full_name),
    sha: str(payload.after) || str(pr?.head?.sha) || str(payload.sha),
    ref,
    branch,
    sender: str(payload.sender?.login),
    pr_number: str(pr?.number ?? payload.number),
    label: str(payload.label?.name),
    delivery: deliveryId,
  };
  let mismatch: string | null = null;
  if (filter.events.length && !filter.events.includes(event))
    mismatch = `event '${event}' is not one of ${filter.events.join(', ')}`;
  else if (filter.actions.length && !filter.actions.includes(vars.action))
    mismatch = `action '${vars.action}' is not one of ${filter.actions.join(', ')}`;
  else if (filter.branches.length && !filter.branches.includes(branch))
    mismatch = `branch '${branch}' is not one of ${filter.branches.join(', ')}`;
  else if (filter.labels.length && !labels.some((l) => filter.labels.includes(l)))
    mismatch = `none of the labels (${labels.join(', ') || 'none'}) is one of ${filter.labels.join(', ')}`;
  return { deliveryId, event, vars, mismatch };
}

function standardContext(
  headers: Headers,
  payload: Record<string, any>,
  filter: TriggerFilter,
): EventContext {
  const deliveryId = headers.get('webhook-id') ?? '';
  const event = str(payload.type);
  const data = payload.data && typeof payload.data === 'object' ? payload.data : {};
  const vars: Record<string, string> = { event, type: event, delivery: deliveryId };
  for (const [k, v] of Object.entries(data))
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      vars[k] = String(v);
  if (!vars.branch && vars.ref) vars.branch = vars.ref.replace(/^refs\/heads\//, '');
  let mismatch: string | null = null;
  if (filter.events.length && !filter.events.includes(event))
    mismatch = `type '${event}' is not one of ${filter.events.join(', ')}`;
  else if (filter.branches.length && !filter.branches.includes(vars.branch ?? ''))
    mismatch = `branch '${vars.branch ?? ''}' is not one of ${filter.branches.join(', ')}`;
  return { deliveryId, event, vars, mismatch };
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;

/** The variables a GitHub delivery fills (githubContext); a Standard Webhook's are its type and data fields. */
const GITHUB_VARS = [
  'event',
  'action',
  'repository',
  'sha',
  'ref',
  'branch',
  'sender',
  'pr_number',
  'label',
  'delivery',
] as const;

/** The {{placeholders}} of a template's name and metadata strings. */
function placeholdersOf(study: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === 'string') for (const m of v.matchAll(PLACEHOLDER)) out.add(m[1]);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(study.name);
  walk(study.metadata);
  return out;
}

/** {{name}} → vars[name] in a string; a name the event lacks (or leaves empty) goes to `missing`, and stays as it was. */
function fill(
  text: string,
  vars: Record<string, string>,
  missing: Set<string> = new Set(),
): string {
  return text.replace(PLACEHOLDER, (m, k: string) => {
    if (vars[k] === undefined || vars[k] === '') {
      missing.add(k);
      return m;
    }
    return vars[k];
  });
}

function fillDeep(v: unknown, vars: Record<string, string>, missing: Set<string>): unknown {
  if (typeof v === 'string') return fill(v, vars, missing);
  if (Array.isArray(v)) return v.map((x) => fillDeep(x, vars, missing));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillDeep(x, vars, missing)]));
  return v;
}

function unauthorized(detail: string): DomainError {
  return new DomainError('unauthorized', detail);
}

const enc = new TextEncoder();

async function hmacVerify(
  key: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'verify',
  ]);
  return crypto.subtle.verify('HMAC', k, signature, data); // constant time
}

const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

function base64Bytes(s: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * Check the signature over the body's bytes as they arrived (before any decoding), as GitHub
 * (X-Hub-Signature-256: sha256=<hex HMAC(secret, body)>) or Standard Webhooks sign them
 * (webhook-signature: v1,<base64 HMAC(key, "<id>.<timestamp>." + body)>, timestamp within 5 minutes).
 */
async function verifySignature(
  trigger: TriggerRow,
  headers: Headers,
  body: Uint8Array,
): Promise<void> {
  if (trigger.kind === 'github') {
    const sig = headers.get('x-hub-signature-256');
    if (!sig) throw unauthorized('missing X-Hub-Signature-256');
    const hex = /^sha256=([0-9a-f]{64})$/i.exec(sig.trim())?.[1];
    const bytes = hex ? Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16)) : null;
    if (!bytes || !(await hmacVerify(enc.encode(trigger.secret), bytes, body)))
      throw unauthorized('the X-Hub-Signature-256 signature does not match this trigger’s secret');
    return;
  }
  const id = headers.get('webhook-id') ?? '';
  const ts = headers.get('webhook-timestamp') ?? '';
  const sigs = headers.get('webhook-signature') ?? '';
  if (!id || !ts || !sigs)
    throw unauthorized('missing webhook-id, webhook-timestamp or webhook-signature');
  const fail = (why: string) =>
    unauthorized(`the Standard Webhooks signature does not verify: ${why}`);
  if (!/^[0-9]{1,12}$/.test(ts)) throw fail('webhook-timestamp is not whole seconds since 1970');
  const skew = Math.floor(Date.now() / 1000) - Number(ts);
  if (skew > 300) throw fail('Message timestamp too old');
  if (skew < -300) throw fail('Message timestamp too new');
  const key = base64Bytes(trigger.secret.replace(/^whsec_/, ''));
  if (!key) throw fail('the trigger’s secret is not base64');
  const signed = concat(enc.encode(`${id}.${ts}.`), body);
  for (const versioned of sigs.split(' ')) {
    const [version, sig] = versioned.split(',');
    const bytes = version === 'v1' && sig ? base64Bytes(sig) : null;
    if (bytes && (await hmacVerify(key, bytes, signed))) return;
  }
  throw fail('No matching signature found');
}

/** A delivery whose filled template makes no study: the same 422 the first time and on every redelivery. */
function failed(d: { deliveryId: string; reason: string | null }): DomainError {
  const reason = d.reason ?? 'the filled template is not a valid study';
  return new DomainError('invalid', reason, {
    issues: [{ path: 'template', message: reason }],
    extra: { delivery_id: d.deliveryId },
  });
}

/** A signed delivery's body as JSON (UTF-8): an object, else `{}`. */
function parsePayload(raw: Uint8Array): Record<string, any> {
  try {
    const v = JSON.parse(
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(raw),
    ) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, any>) : {};
  } catch {
    throw new DomainError('bad_request', 'the delivery body is not JSON (UTF-8)');
  }
}

/** What a delivery seen before answers: its study, its reason to be ignored, its 422; null while its study is being created. */
function answerOf(d: HookDeliveryRow): HookAnswer | null {
  if (d.status === 'failed') throw failed(d);
  return d.status === 'created' && d.studyId
    ? { status: 'created', study_id: d.studyId, delivery_id: d.deliveryId }
    : d.status === 'ignored'
      ? { status: 'ignored', reason: d.reason ?? '', delivery_id: d.deliveryId }
      : null;
}

/** Handle one delivery at /hooks/{triggerId}: verify the raw bytes, parse, dedupe, filter, create. */
export async function handleHook(
  env: Env,
  triggerId: string,
  headers: Headers,
  raw: Uint8Array,
): Promise<HookAnswer> {
  const trigger = await findTriggerById(env.DB, triggerId);
  if (!trigger) throw new DomainError('not_found', `no trigger with id '${triggerId}'`);
  await verifySignature(trigger, headers, raw);
  // Signed by the sender: now it is worth reading.
  const payload = parsePayload(raw);
  const filter = trigger.filter as TriggerFilter;
  const ctx =
    trigger.kind === 'github'
      ? githubContext(headers, payload, filter)
      : standardContext(headers, payload, filter);
  if (!ctx.deliveryId)
    throw new DomainError(
      'bad_request',
      trigger.kind === 'github' ? 'missing X-GitHub-Delivery' : 'missing webhook-id',
    );
  const seen = await findHookDelivery(env.DB, trigger.id, ctx.deliveryId);
  if (seen) {
    const a = answerOf(seen);
    if (a) return a;
  }
  if (ctx.mismatch) return ignore(env, trigger, ctx, ctx.mismatch);
  // Claimed a minute ago without a study: the request that claimed it died; this one takes over.
  const takeOver = seen !== undefined && Date.now() - seen.createdAt.getTime() > 60_000;
  // Claim the delivery id first (the primary key makes concurrent redeliveries wait their turn).
  const claimed = takeOver
    ? true
    : seen
      ? false
      : await insertHookDelivery(env.DB, {
          triggerId: trigger.id,
          deliveryId: ctx.deliveryId,
          status: 'created',
          studyId: null,
          reason: null,
          createdAt: new Date(),
        });
  if (!claimed) return awaitOtherCopy(env, trigger, ctx);
  return createFromTemplate(env, trigger, ctx);
}

/** An event the filter does not match: recorded as ignored (the first record of it answers). */
async function ignore(
  env: Env,
  trigger: TriggerRow,
  ctx: EventContext,
  mismatch: string,
): Promise<HookAnswer> {
  await insertHookDelivery(env.DB, {
    triggerId: trigger.id,
    deliveryId: ctx.deliveryId,
    status: 'ignored',
    studyId: null,
    reason: mismatch,
    createdAt: new Date(),
  });
  const first = await findHookDelivery(env.DB, trigger.id, ctx.deliveryId);
  return answerOf(first!) ?? { status: 'ignored', reason: mismatch, delivery_id: ctx.deliveryId };
}

/** Another copy of this delivery is creating the study right now: answer with its study once it is there. */
async function awaitOtherCopy(
  env: Env,
  trigger: TriggerRow,
  ctx: EventContext,
): Promise<HookAnswer> {
  for (let i = 0; i < 50; i++) {
    const d = await findHookDelivery(env.DB, trigger.id, ctx.deliveryId);
    const a = d && answerOf(d);
    if (a) return a;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new DomainError('conflict', `delivery ${ctx.deliveryId} is being processed; retry it`);
}

/**
 * The study of a claimed delivery: the trigger's template with the event's values filled in,
 * created (and run at once when its executor is the edge). A delivery that cannot make a study is
 * marked failed with the reason, and answers that 422 now and on every redelivery.
 */
async function createFromTemplate(
  env: Env,
  trigger: TriggerRow,
  ctx: EventContext,
): Promise<HookAnswer> {
  const fail = async (reason: string): Promise<never> => {
    await updateHookDelivery(env.DB, trigger.id, ctx.deliveryId, { status: 'failed', reason });
    throw failed({ deliveryId: ctx.deliveryId, reason });
  };
  const template = await findTemplate(env.DB, trigger.projectId, trigger.templateId);
  if (!template)
    throw new DomainError('conflict', `the trigger's template ${trigger.templateId} is gone`);
  const { filled, missing } = fillTemplate(template, trigger, ctx);
  if (missing.size > 0) {
    const names = [...missing].map((k) => `{{${k}}}`);
    await fail(
      `${names.length === 1 ? 'placeholder' : 'placeholders'} ${names.join(', ')} not in the event`,
    );
  }
  const parsed = StudyCreateSchema.safeParse(filled);
  if (!parsed.success)
    await fail(
      `the filled template is not a valid study: ${issuesDetail(zodIssues(parsed.error, ['template']))}`,
    );
  let study;
  try {
    study = await createStudy(env, trigger.projectId, parsed.data as StudyCreate);
  } catch (err) {
    // A template that cannot make a study with this event's values: say so now and on every redelivery.
    if (err instanceof DomainError)
      await fail(`the filled template is not a valid study: ${err.detail}`);
    throw err;
  }
  await updateHookDelivery(env.DB, trigger.id, ctx.deliveryId, { studyId: study.id });
  // The event is the start: an edge study runs at once (runner studies wait for runners, client ones for asks).
  if (study.executor.kind === 'edge') await run(env, trigger.projectId, study.id);
  return { status: 'created', study_id: study.id, delivery_id: ctx.deliveryId };
}

/**
 * The template's study with the event's values in its name and metadata (and the trigger, the
 * delivery and the event in `metadata.trigger`); `missing` names the placeholders the event lacks.
 */
function fillTemplate(
  template: TemplateRow,
  trigger: TriggerRow,
  ctx: EventContext,
): { filled: Record<string, unknown>; missing: Set<string> } {
  const t = template.study as Record<string, unknown>;
  const missing = new Set<string>();
  const filled = {
    ...t,
    name: fill(String(t.name ?? template.name), ctx.vars, missing),
    metadata: {
      ...(fillDeep(t.metadata ?? {}, ctx.vars, missing) as Record<string, unknown>),
      trigger: { id: trigger.id, delivery: ctx.deliveryId, event: ctx.event },
    },
  };
  return { filled, missing };
}
