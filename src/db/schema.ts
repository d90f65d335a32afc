/**
 * The D1 schema. SQL columns are snake_case, TypeScript keys camelCase.
 * Migrations in `migrations/` are generated from this file by drizzle-kit
 * (`npm run db:generate`); never edit them by hand.
 */
import { sqliteTable, text, integer, real, primaryKey } from 'drizzle-orm/sqlite-core';
import type { WireNumber } from '../lib/values';
import { DIRECTIONS, STUDY_STATES, SUBSCRIPTION_STATES, TRIAL_STATES } from '../contract/names';

/** The project every resource belongs to when none is named: the development keys' project. */
export const DEFAULT_PROJECT_ID = 'prj_default';

/** A project: the unit of isolation. A key sees only its project's resources. */
export const projects = sqliteTable('projects', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** An API key: only the SHA-256 of its secret is stored. */
export const apiKeys = sqliteTable('api_keys', {
  id: text('id').primaryKey(),
  projectId: text('project_id')
    .notNull()
    .references(() => projects.id),
  name: text('name').notNull(),
  /** Subset of read, write, runner, admin. */
  scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
  secretHash: text('secret_hash').notNull().unique(),
  /** The first characters of the secret, to recognise it in lists. */
  prefix: text('prefix').notNull(),
  /** Expensive calls (range tests, study creation) per minute; null: the service default. */
  rateLimitPerMinute: integer('rate_limit_per_minute'),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
});

/** One LR range test: its canonical request, keyed by SHA-256, and its answer. */
export const lrRangeTests = sqliteTable('lr_range_tests', {
  id: text('id').primaryKey(),
  projectId: text('project_id').notNull().default(DEFAULT_PROJECT_ID),
  cacheKey: text('cache_key').notNull().unique(),
  request: text('request', { mode: 'json' }).notNull(),
  result: text('result', { mode: 'json' }).notNull(),
  backend: text('backend').notNull(),
  suggestedLr: real('suggested_lr'),
  confidence: text('confidence').notNull(),
  durationMs: integer('duration_ms').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** A study as listed and read back from D1 (the coordinator's storage is the live truth). */
export const studies = sqliteTable('studies', {
  id: text('id').primaryKey(),
  projectId: text('project_id').notNull().default(DEFAULT_PROJECT_ID),
  name: text('name').notNull(),
  direction: text('direction', { enum: DIRECTIONS }).notNull(),
  metric: text('metric').notNull(),
  /** space, sampler, pruner, executor, max_trials, metadata, directions, metrics: as created. */
  config: text('config', { mode: 'json' }).notNull(),
  state: text('state', { enum: STUDY_STATES }).notNull(),
  nTrials: integer('n_trials').notNull(),
  /** The best feasible complete trial; null with several objectives (their front is in the study's answer). */
  bestTrialNumber: integer('best_trial_number'),
  /** Its value; null when it is infinite (D1's binding cannot carry one). */
  bestValue: real('best_value'),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
});

export const trials = sqliteTable(
  'trials',
  {
    studyId: text('study_id')
      .notNull()
      .references(() => studies.id),
    number: integer('number').notNull(),
    state: text('state', { enum: TRIAL_STATES }).notNull(),
    /** A complete trial's value (one objective); null when it is infinite (D1's binding cannot carry one: see values). */
    value: real('value'),
    /**
     * A complete trial's objective values (JSON array, one per direction; [value] with one objective),
     * an infinite one as the string "Infinity" or "-Infinity", as the API answers it.
     */
    values: text('values', { mode: 'json' }).$type<WireNumber[]>(),
    /** The constraints told with the result (JSON array; feasible when all <= 0); null when none. */
    constraints: text('constraints', { mode: 'json' }).$type<number[]>(),
    /** The sampler that proposed the params (with auto: its delegate); null for given params. */
    sampler: text('sampler'),
    error: text('error'),
    /** Leases the trial has had (asks, runner or edge leases): 2 or more after an expired lease was handed out again. */
    attempts: integer('attempts').notNull().default(0),
    startedAt: integer('started_at', { mode: 'timestamp_ms' }),
    completedAt: integer('completed_at', { mode: 'timestamp_ms' }),
  },
  (t) => [primaryKey({ columns: [t.studyId, t.number] })],
);

/** One row per (trial, parameter): queryable across studies. Values as JSON (number, string or boolean). */
export const trialParams = sqliteTable(
  'trial_params',
  {
    studyId: text('study_id').notNull(),
    number: integer('number').notNull(),
    name: text('name').notNull(),
    value: text('value', { mode: 'json' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.studyId, t.number, t.name] })],
);

export const trialIntermediate = sqliteTable(
  'trial_intermediate_values',
  {
    studyId: text('study_id').notNull(),
    number: integer('number').notNull(),
    step: integer('step').notNull(),
    value: real('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.studyId, t.number, t.step] })],
);

/** A stored study body (API.md) whose name and metadata may hold {{placeholders}} filled from an event. */
export const templates = sqliteTable('templates', {
  id: text('id').primaryKey(),
  projectId: text('project_id').notNull(),
  name: text('name').notNull(),
  study: text('study', { mode: 'json' }).notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** Binds a template to a webhook secret and a filter: events at /hooks/{id} create studies. */
export const triggers = sqliteTable('triggers', {
  id: text('id').primaryKey(),
  projectId: text('project_id').notNull(),
  templateId: text('template_id').notNull(),
  /** github (X-Hub-Signature-256) or standard (Standard Webhooks). */
  kind: text('kind', { enum: ['github', 'standard'] }).notNull(),
  filter: text('filter', { mode: 'json' }).notNull(),
  /** Kept as is: verifying an HMAC needs the secret itself. */
  secret: text('secret').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** Each delivery a trigger took, by its delivery id: a repeated one answers the same. */
export const hookDeliveries = sqliteTable(
  'hook_deliveries',
  {
    triggerId: text('trigger_id').notNull(),
    deliveryId: text('delivery_id').notNull(),
    // failed: the filled template made no study (the reason says why; redeliveries answer the same 422).
    status: text('status', { enum: ['created', 'ignored', 'failed'] }).notNull(),
    studyId: text('study_id'),
    reason: text('reason'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.triggerId, t.deliveryId] })],
);

/** Outbound notifications: a project's (study_id null) or one study's events, POSTed to a URL as Standard Webhooks. */
export const subscriptions = sqliteTable('subscriptions', {
  id: text('id').primaryKey(),
  projectId: text('project_id').notNull(),
  studyId: text('study_id'),
  url: text('url').notNull(),
  events: text('events', { mode: 'json' }).$type<string[]>().notNull(),
  secret: text('secret').notNull(),
  state: text('state', { enum: SUBSCRIPTION_STATES }).notNull(),
  disabledReason: text('disabled_reason'),
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** Every attempt to deliver a notification. */
export const notificationAttempts = sqliteTable('notification_attempts', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  subscriptionId: text('subscription_id').notNull(),
  /** The webhook-id of the message: the same for every attempt of one event. */
  messageId: text('message_id').notNull(),
  event: text('event').notNull(),
  attempt: integer('attempt').notNull(),
  ok: integer('ok', { mode: 'boolean' }).notNull(),
  responseStatus: integer('response_status'),
  error: text('error'),
  at: integer('at', { mode: 'timestamp_ms' }).notNull(),
});

/**
 * A Markdown note a person wrote on a study (trial -1) or on one of its trials: what the
 * dashboard shows and edits. Not the study's tuning state, so it lives here, not in the study's
 * object.
 */
export const notes = sqliteTable(
  'notes',
  {
    projectId: text('project_id').notNull(),
    studyId: text('study_id').notNull(),
    /** The trial's number; -1: the study's own note. */
    trial: integer('trial').notNull(),
    body: text('body').notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.studyId, t.trial] })],
);
