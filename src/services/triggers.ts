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
import { verify as verifyGithub } from '@octokit/webhooks-methods';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { newId, randomBase64, randomBase64Url } from '../api/ids';
import { ProblemError } from '../api/problem';
import { boundsStatus } from '../api/json-bounds';
import { StudyCreateSchema, type StudyCreate } from '../api/schemas';
import { zodIssues } from '../api/problem';
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
import { validateSpace } from '../tuning/validate';
import { createStudy, run } from './studies';
import { checkEdgeSpace } from './edge';
import type { EdgeExecutor } from '../coordinator/types';

export interface TriggerFilter {
  /** GitHub: X-GitHub-Event values; Standard Webhooks: the payload's `type`. Empty: any. */
  events: string[];
  /** GitHub: the push's branch, or a pull request's base branch. Empty: any. */
  branches: string[];
  /** GitHub: at least one of these labels on the pull request (or the label just added). Empty: any. */
  labels: string[];
  /** GitHub: the payload's `action` (opened, labeled, ...). Empty: any. */
  actions: string[];
}

const templateView = (t: TemplateRow) => ({ id: t.id, name: t.name, study: t.study as Record<string, unknown>, created_at: t.createdAt.toISOString() });
const triggerView = (t: TriggerRow) => ({
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
    throw new ProblemError(status, status === 413 ? 'too-large' : 'invalid-request', issues.length === 1 ? `${issues[0].path}: ${issues[0].message}` : `${issues.length} problems in the template`, issues);
  }
  const { space, issues } = validateSpace(parsed.data.space);
  if (space && parsed.data.executor.kind === 'edge') issues.push(...checkEdgeSpace(space, parsed.data.executor as EdgeExecutor, parsed.data.max_trials));
  if (issues.length > 0) {
    const withPrefix = issues.map((i) => ({ path: `study.${i.path}`, message: i.message }));
    throw new ProblemError(422, 'invalid-request', `${withPrefix[0].path}: ${withPrefix[0].message}`, withPrefix);
  }
  const row: TemplateRow = { id: newId('tpl'), projectId, name, study: study as object, createdAt: new Date() };
  await insertTemplate(env.DB, row);
  return templateView(row);
}

export async function getTemplate(env: Env, projectId: string, id: string) {
  const t = await findTemplate(env.DB, projectId, id);
  if (!t) throw new ProblemError(404, 'not-found', `no template with id '${id}'`);
  return templateView(t);
}

export async function createTrigger(env: Env, projectId: string, body: { template_id: string; kind: 'github' | 'standard'; filter: Partial<TriggerFilter>; secret?: string }) {
  if (!(await findTemplate(env.DB, projectId, body.template_id))) {
    throw new ProblemError(422, 'invalid-request', `template_id: no template with id '${body.template_id}'`, [{ path: 'template_id', message: `no template with id '${body.template_id}'` }]);
  }
  const secret = body.secret ?? (body.kind === 'standard' ? `whsec_${randomBase64(24)}` : randomBase64Url(24));
  if (body.kind === 'standard') {
    try {
      new Webhook(secret);
    } catch {
      throw new ProblemError(422, 'invalid-request', 'secret: a Standard Webhooks secret is whsec_ followed by base64', [{ path: 'secret', message: 'expected whsec_<base64>' }]);
    }
  }
  const filter: TriggerFilter = { events: body.filter.events ?? [], branches: body.filter.branches ?? [], labels: body.filter.labels ?? [], actions: body.filter.actions ?? [] };
  const row: TriggerRow = { id: newId('trg'), projectId, templateId: body.template_id, kind: body.kind, filter, secret, createdAt: new Date() };
  await insertTrigger(env.DB, row);
  return { ...triggerView(row), secret };
}

export async function getTrigger(env: Env, projectId: string, id: string) {
  const t = await findTrigger(env.DB, projectId, id);
  if (!t) throw new ProblemError(404, 'not-found', `no trigger with id '${id}'`);
  return triggerView(t);
}

export type HookAnswer = { status: 'created'; study_id: string; delivery_id: string } | { status: 'ignored'; reason: string; delivery_id: string };

/** What a verified event says, for the filter and the placeholders. */
interface EventContext {
  deliveryId: string;
  event: string;
  vars: Record<string, string>;
  /** Why it does not match the trigger's filter (null: it matches). */
  mismatch: string | null;
}

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

function githubContext(headers: Headers, payload: Record<string, any>, filter: TriggerFilter): EventContext {
  const event = headers.get('x-github-event') ?? '';
  const deliveryId = headers.get('x-github-delivery') ?? '';
  const pr = payload.pull_request;
  const ref = str(payload.ref) || str(pr?.head?.ref);
  const branch = payload.ref ? str(payload.ref).replace(/^refs\/heads\//, '') : str(pr?.base?.ref);
  const labels: string[] = [...(pr?.labels ?? []).map((l: any) => str(l?.name)), ...(payload.label ? [str(payload.label.name)] : [])].filter(Boolean);
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
  if (filter.events.length && !filter.events.includes(event)) mismatch = `event '${event}' is not one of ${filter.events.join(', ')}`;
  else if (filter.actions.length && !filter.actions.includes(vars.action)) mismatch = `action '${vars.action}' is not one of ${filter.actions.join(', ')}`;
  else if (filter.branches.length && !filter.branches.includes(branch)) mismatch = `branch '${branch}' is not one of ${filter.branches.join(', ')}`;
  else if (filter.labels.length && !labels.some((l) => filter.labels.includes(l))) mismatch = `none of the labels (${labels.join(', ') || 'none'}) is one of ${filter.labels.join(', ')}`;
  return { deliveryId, event, vars, mismatch };
}

function standardContext(headers: Headers, payload: Record<string, any>, filter: TriggerFilter): EventContext {
  const deliveryId = headers.get('webhook-id') ?? '';
  const event = str(payload.type);
  const data = payload.data && typeof payload.data === 'object' ? payload.data : {};
  const vars: Record<string, string> = { event, type: event, delivery: deliveryId };
  for (const [k, v] of Object.entries(data)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') vars[k] = String(v);
  if (!vars.branch && vars.ref) vars.branch = vars.ref.replace(/^refs\/heads\//, '');
  let mismatch: string | null = null;
  if (filter.events.length && !filter.events.includes(event)) mismatch = `type '${event}' is not one of ${filter.events.join(', ')}`;
  else if (filter.branches.length && !filter.branches.includes(vars.branch ?? '')) mismatch = `branch '${vars.branch ?? ''}' is not one of ${filter.branches.join(', ')}`;
  return { deliveryId, event, vars, mismatch };
}

/** {{name}} → vars[name] (unknown names become ''), in a string. */
export function fill(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g, (_m, k: string) => vars[k] ?? '');
}

function fillDeep(v: unknown, vars: Record<string, string>): unknown {
  if (typeof v === 'string') return fill(v, vars);
  if (Array.isArray(v)) return v.map((x) => fillDeep(x, vars));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillDeep(x, vars)]));
  return v;
}

function unauthorized(detail: string): ProblemError {
  return new ProblemError(401, 'unauthorized', detail);
}

/** Handle one delivery at /hooks/{triggerId}: verify, dedupe, filter, create. */
export async function handleHook(env: Env, triggerId: string, headers: Headers, body: string): Promise<HookAnswer> {
  const trigger = await findTriggerById(env.DB, triggerId);
  if (!trigger) throw new ProblemError(404, 'not-found', `no trigger with id '${triggerId}'`);
  if (trigger.kind === 'github') {
    const sig = headers.get('x-hub-signature-256');
    if (!sig) throw unauthorized('missing X-Hub-Signature-256');
    if (!(await verifyGithub(trigger.secret, body, sig).catch(() => false))) throw unauthorized('the X-Hub-Signature-256 signature does not match this trigger’s secret');
  } else {
    const h = { 'webhook-id': headers.get('webhook-id') ?? '', 'webhook-timestamp': headers.get('webhook-timestamp') ?? '', 'webhook-signature': headers.get('webhook-signature') ?? '' };
    if (!h['webhook-id'] || !h['webhook-timestamp'] || !h['webhook-signature']) throw unauthorized('missing webhook-id, webhook-timestamp or webhook-signature');
    try {
      new Webhook(trigger.secret).verify(body, h);
    } catch (err) {
      const why = err instanceof WebhookVerificationError ? err.message : 'invalid signature';
      throw unauthorized(`the Standard Webhooks signature does not verify: ${why}`);
    }
  }
  let payload: Record<string, any>;
  try {
    const v = JSON.parse(body) as unknown;
    payload = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, any>) : {};
  } catch {
    throw new ProblemError(400, 'bad-request', 'the delivery body is not JSON');
  }
  const filter = trigger.filter as TriggerFilter;
  const ctx = trigger.kind === 'github' ? githubContext(headers, payload, filter) : standardContext(headers, payload, filter);
  if (!ctx.deliveryId) throw new ProblemError(400, 'bad-request', trigger.kind === 'github' ? 'missing X-GitHub-Delivery' : 'missing webhook-id');

  const answerOf = (d: HookDeliveryRow): HookAnswer | null =>
    d.status === 'created' && d.studyId
      ? { status: 'created', study_id: d.studyId, delivery_id: d.deliveryId }
      : d.status === 'ignored'
        ? { status: 'ignored', reason: d.reason ?? '', delivery_id: d.deliveryId }
        : null;
  const seen = await findHookDelivery(env.DB, trigger.id, ctx.deliveryId);
  if (seen) {
    const a = answerOf(seen);
    if (a) return a;
  }
  // Claimed a minute ago without a study: the request that claimed it died; this one takes over.
  const takeOver = seen !== undefined && Date.now() - seen.createdAt.getTime() > 60_000;

  if (ctx.mismatch) {
    await insertHookDelivery(env.DB, { triggerId: trigger.id, deliveryId: ctx.deliveryId, status: 'ignored', studyId: null, reason: ctx.mismatch, createdAt: new Date() });
    const first = await findHookDelivery(env.DB, trigger.id, ctx.deliveryId);
    return answerOf(first!) ?? { status: 'ignored', reason: ctx.mismatch, delivery_id: ctx.deliveryId };
  }
  // Claim the delivery id first (the primary key makes concurrent redeliveries wait their turn).
  const claimed = takeOver ? true : seen ? false : await insertHookDelivery(env.DB, { triggerId: trigger.id, deliveryId: ctx.deliveryId, status: 'created', studyId: null, reason: null, createdAt: new Date() });
  if (!claimed) {
    // Another copy of this delivery is creating the study right now: answer with its study once it is there.
    for (let i = 0; i < 50; i++) {
      const d = await findHookDelivery(env.DB, trigger.id, ctx.deliveryId);
      const a = d && answerOf(d);
      if (a) return a;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new ProblemError(409, 'conflict', `delivery ${ctx.deliveryId} is being processed; retry it`);
  }
  const template = await findTemplate(env.DB, trigger.projectId, trigger.templateId);
  if (!template) throw new ProblemError(409, 'conflict', `the trigger's template ${trigger.templateId} is gone`);
  const t = template.study as Record<string, unknown>;
  const filled = {
    ...t,
    name: fill(String(t.name ?? template.name), ctx.vars),
    metadata: { ...(fillDeep(t.metadata ?? {}, ctx.vars) as Record<string, unknown>), trigger: { id: trigger.id, delivery: ctx.deliveryId, event: ctx.event } },
  };
  const parsed = StudyCreateSchema.safeParse(filled);
  if (!parsed.success) {
    await updateHookDelivery(env.DB, trigger.id, ctx.deliveryId, { status: 'ignored', reason: 'the filled template is not a valid study' });
    const issues = zodIssues(parsed.error, ['template']);
    throw new ProblemError(422, 'invalid-request', `the filled template is not a valid study: ${issues[0]?.path}: ${issues[0]?.message}`, issues);
  }
  let study;
  try {
    study = await createStudy(env, trigger.projectId, parsed.data as StudyCreate);
  } catch (err) {
    if (err instanceof ProblemError && err.status < 500) {
      // A template that cannot make a study with this event's values: say so now and on every redelivery.
      await updateHookDelivery(env.DB, trigger.id, ctx.deliveryId, { status: 'ignored', reason: `the filled template is not a valid study: ${err.message}` });
    }
    throw err;
  }
  await updateHookDelivery(env.DB, trigger.id, ctx.deliveryId, { studyId: study.id });
  // The event is the start: an edge study runs at once (runner studies wait for runners, client ones for asks).
  if (study.executor.kind === 'edge') await run(env, trigger.projectId, study.id);
  return { status: 'created', study_id: study.id, delivery_id: ctx.deliveryId };
}
