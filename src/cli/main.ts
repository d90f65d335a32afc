/**
 * The `stride` command line (Node). Speaks only HTTP to the service.
 *
 *   stride agent --study ID [--count N] [--gpus 0,1,2,3] [--name NAME] -- <command with ${param} placeholders>
 *   stride lr-find probe.json [--epochs N | --steps N] [--schedule cosine] | stride check probe.json --lr 0.1
 *   stride study create study.json | run ID | wait ID --timeout 30m | best ID | export ID --format csv
 *
 * Configuration: STRIDE_URL (default http://localhost:8787) and
 * STRIDE_API_KEY, or --url and --key.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { LR_SCHEDULES } from '../contract/names';
import { Agent } from './agent';
import { ApiError, StrideClient } from './client';
import {
  check,
  lrFind,
  parseDuration,
  studyBest,
  studyCreate,
  studyExport,
  studyRun,
  studyWait,
  UsageError,
  type Io,
  type TrainingHorizon,
} from './commands';

const USAGE = `usage: stride <command> [options]

commands:
  lr-find FILE          run an LR range test (FILE: a probe, or {"probe", "range"}; - for stdin),
                        print the curve and the suggestion. With your run's length, --epochs N or
                        --steps N (not both), [--schedule constant|cosine|one_cycle] and
                        [--budget R] (full runs to spend, the sweep included; default 3), it then
                        searches for the lr at that length (POST /v1/lr/suggest) and prints the
                        validated lr, its confidence, the horizon, the runs, what they cost and
                        why; --json gives {"range_test", "suggestion"}
  check FILE --lr X     exit 0 when X is in the stable region, 1 when it is above max_stable_lr
                        or more than --factor (default 10) times below the suggestion, 2 on errors
  study create FILE     create a study (FILE: the body of POST /v1/studies, see docs/API.md); prints
                        its id. An edge study is started at once unless --no-start
  study run ID          start an edge study (its trials train on the edge)
  study wait ID         wait until it completes [--timeout 30m] [--interval 5s], showing progress and
                        why it stalls (not started, no runner, your ask/tell loop); exit 1 on timeout
                        or when no trial completed
  study best ID         the best trial's params and value (exit 1 when there is none yet)
  study export ID       every trial [--format csv|json] [--output FILE]
  agent                 lease trials of runner studies and run a training command for each

  stride agent [--study ID] [--count N] [--gpus 0,1,...] [--name NAME] [--grace SECONDS] [--wait] -- command args...

    Placeholders \${name} in the command take the trial's params (\${name:-default} when the
    trial may lack one; \${trial} and \${study} too). The command also gets STRIDE_PARAMS (JSON),
    STRIDE_TRIAL, STRIDE_STUDY and STRIDE_METRICS_FILE, and with --gpus CUDA_VISIBLE_DEVICES.
    It reports with stdout lines  stride: {"step": 3, "value": 0.41}  and a final
    stride: {"value": 0.37}  (or the same JSON lines appended to $STRIDE_METRICS_FILE). A study
    with several objectives takes one value per direction,  stride: {"values": [0.37, 12.5]},
    and no step lines (they are not sent); either form may add  "constraints": [c1, ...]
    (feasible when every one is <= 0). A final result with the wrong number of values, or a NaN
    or infinite one, fails the trial saying what was wrong.

    --study ID     lease only from this study (default: any runner study; then --wait is implied)
    --count N      run at most N trials, then exit
    --gpus LIST    one trial at a time per GPU id, in parallel
    --name NAME    the runner's name in leases (default: the host name)
    --grace S      seconds between SIGTERM and SIGKILL when stopping a trial (default 10)
    --wait         keep waiting for work when the study has none left

    A placeholder that names no parameter of the study is exit 2 before any trial runs (it says
    which parameter is closest). The agent exits 0 when a trial completed (or there was no work),
    1 when trials ran and none completed (all failed, pruned or lost), 130 when interrupted:
    Ctrl-C hands running trials back, except one whose command already printed its final value
    (that value is told).

options for every command:
  --url URL      the service (default $STRIDE_URL, else http://localhost:8787)
  --key KEY      the API key (default $STRIDE_API_KEY); a runner key is enough for the agent
  --json         machine-readable output on stdout

exit codes: 0 success, 1 a check that failed (or a study that timed out or failed, or an agent whose
trials all failed), 2 usage or service errors, 130 interrupted.

The HTTP API behind these commands: docs/API.md in the repository, and /openapi.json on the service.
`;

/** Every command's options (each command reads its own). */
const OPTIONS = {
  study: { type: 'string' },
  count: { type: 'string' },
  gpus: { type: 'string' },
  name: { type: 'string' },
  grace: { type: 'string' },
  wait: { type: 'boolean' },
  'no-start': { type: 'boolean' },
  lr: { type: 'string' },
  epochs: { type: 'string' },
  steps: { type: 'string' },
  schedule: { type: 'string' },
  budget: { type: 'string' },
  factor: { type: 'string' },
  timeout: { type: 'string' },
  interval: { type: 'string' },
  format: { type: 'string' },
  output: { type: 'string', short: 'o' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  key: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The command's options and positionals (`study`'s come after its subcommand); throws on an unknown option. */
function parse(command: string, rest: string[]) {
  return parseArgs({
    args: command === 'study' ? rest.slice(1) : rest,
    allowPositionals: true,
    strict: true,
    options: OPTIONS,
  });
}

type StdIo = { out: NodeJS.WritableStream; err: NodeJS.WritableStream };

/** A usage error said on stderr; answers the exit code, 2. */
type Usage = (msg: string) => number;

/** What a command runs with. */
interface CommandRun {
  client: StrideClient;
  v: ReturnType<typeof parse>['values'];
  pos: string[];
  json: boolean;
  io: StdIo;
  cio: Io;
  usage: Usage;
}

/** Run the command line; resolves to the process exit code. */
export async function main(
  argv: string[],
  io: StdIo = {
    out: process.stdout,
    err: process.stderr,
  },
): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    io.out.write(USAGE);
    return command ? 0 : 2;
  }
  const name = command === 'study' ? `study ${rest[0] ?? ''}`.trim() : command;
  const usage: Usage = (msg) => {
    io.err.write(`stride ${name}: ${msg}\n`);
    return 2;
  };
  if (!['agent', 'lr-find', 'check', 'study'].includes(command)) {
    io.err.write(`stride: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parse(command, rest);
  } catch (err) {
    return usage(`${err instanceof Error ? err.message : String(err)} (stride --help)`);
  }
  const v = parsed.values;
  if (v.help) {
    io.out.write(USAGE);
    return 0;
  }
  const client = connect(command, v, usage);
  if (typeof client === 'number') return client;
  const cio: Io = { out: io.out, err: io.err, tty: Boolean((io.err as { isTTY?: boolean }).isTTY) };
  const run: CommandRun = {
    client,
    v,
    pos: parsed.positionals,
    json: v.json ?? false,
    io,
    cio,
    usage,
  };
  try {
    return await runCommand(command, rest[0], run);
  } catch (err) {
    return failed(err, name, io, usage);
  }
}

/** The client of --url / STRIDE_URL with --key / STRIDE_API_KEY; a usage error's exit code when either is wrong. */
function connect(command: string, v: CommandRun['v'], usage: Usage): StrideClient | number {
  const url = v.url ?? process.env.STRIDE_URL ?? 'http://localhost:8787';
  const key = v.key ?? process.env.STRIDE_API_KEY;
  try {
    new URL(url);
  } catch {
    return usage(`--url / STRIDE_URL is not a URL: '${url}'`);
  }
  if (!key)
    return usage(
      `no API key: set STRIDE_API_KEY${command === 'agent' ? ' (a runner key is enough)' : ''} or pass --key`,
    );
  return new StrideClient({ url, key });
}

/** A command that threw: a usage error, the service's problem (with its first errors), or the error's message; exit 2. */
function failed(err: unknown, name: string, io: StdIo, usage: Usage): number {
  if (err instanceof UsageError) return usage(err.message);
  if (err instanceof ApiError) {
    io.err.write(`stride ${name}: the service answered ${err.status}: ${err.detail}\n`);
    const errors = (err.problem?.errors as { path: string; message: string }[] | undefined) ?? [];
    for (const e of errors.slice(0, 10)) io.err.write(`  ${e.path}: ${e.message}\n`);
    return 2;
  }
  io.err.write(`stride ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
  return 2;
}

async function runCommand(
  command: string,
  sub: string | undefined,
  r: CommandRun,
): Promise<number> {
  const { client, v, pos, json, cio, usage } = r;
  switch (command) {
    case 'agent':
      return await runAgent(client, v, pos, r.io, usage);
    case 'lr-find': {
      if (pos.length !== 1) return usage('give one file: stride lr-find probe.json');
      const horizon = lrFindHorizon(v);
      if (typeof horizon === 'string') return usage(horizon);
      return await lrFind(client, pos[0], json, cio, horizon);
    }
    case 'check': {
      if (pos.length !== 1) return usage('give one file: stride check probe.json --lr 0.1');
      const lr = Number(v.lr);
      if (v.lr === undefined || !(lr > 0))
        return usage(
          `--lr must be a learning rate > 0${v.lr === undefined ? '' : `, got '${v.lr}'`}`,
        );
      const factor = v.factor === undefined ? 10 : Number(v.factor);
      if (!(factor > 1)) return usage(`--factor must be a number > 1, got '${v.factor}'`);
      return await check(client, pos[0], lr, factor, json, cio);
    }
    case 'study':
      return await runStudy(sub, r);
  }
  return 2;
}

/** `stride study create | run | wait | best | export`. */
async function runStudy(sub: string | undefined, r: CommandRun): Promise<number> {
  const { client, v, pos, json, cio, usage } = r;
  if (sub === 'create') {
    if (pos.length !== 1) return usage('give one file: stride study create study.json');
    return await studyCreate(client, pos[0], !v['no-start'], json, cio);
  }
  if (!['run', 'wait', 'best', 'export'].includes(sub ?? ''))
    return usage(`expected create, run, wait, best or export, got '${sub ?? ''}'`);
  if (pos.length !== 1) return usage(`give the study id: stride study ${sub} ID`);
  if (sub === 'wait') {
    const timeout = parseDuration(v.timeout ?? '30m');
    const interval = parseDuration(v.interval ?? '5s');
    return await studyWait(client, pos[0], timeout, interval, json, cio);
  }
  if (sub === 'run') return await studyRun(client, pos[0], json, cio);
  if (sub === 'best') return await studyBest(client, pos[0], json, cio);
  return await studyExport(client, pos[0], v.format ?? (json ? 'json' : 'csv'), v.output, cio);
}

type Values = Record<string, string | boolean | undefined>;

/** lr-find's --epochs / --steps / --schedule: the horizon, none, or what is wrong (a usage error). */
function lrFindHorizon(v: Values): TrainingHorizon | undefined | string {
  const whole = (flag: 'epochs' | 'steps'): number | string => {
    const n = Number(v[flag]);
    return Number.isInteger(n) && n >= 1
      ? n
      : `--${flag} must be a whole number >= 1, got '${v[flag]}'`;
  };
  if (v.epochs !== undefined && v.steps !== undefined)
    return 'give --epochs or --steps, not both (the training length in one unit)';
  const schedule = v.schedule as string | undefined;
  if (schedule !== undefined && !(LR_SCHEDULES as readonly string[]).includes(schedule))
    return `--schedule must be ${LR_SCHEDULES.join(', ')}, got '${schedule}'`;
  const budget = v.budget === undefined ? undefined : Number(v.budget);
  if (budget !== undefined && !(Number.isFinite(budget) && budget >= 0 && budget <= 50))
    return `--budget must be a number of full runs from 0 to 50, got '${v.budget}'`;
  if (v.epochs === undefined && v.steps === undefined) {
    return schedule === undefined && budget === undefined
      ? undefined
      : `--${schedule !== undefined ? 'schedule' : 'budget'} needs the training length: add --epochs N or --steps N`;
  }
  const flag = v.epochs !== undefined ? 'epochs' : 'steps';
  const n = whole(flag);
  if (typeof n === 'string') return n;
  return {
    training: flag === 'epochs' ? { epochs: n } : { steps: n },
    ...(schedule ? { schedule: schedule as TrainingHorizon['schedule'] } : {}),
    ...(budget !== undefined ? { budget } : {}),
  };
}

async function runAgent(
  client: StrideClient,
  v: Values,
  commandArgs: string[],
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream },
  usage: (msg: string) => number,
): Promise<number> {
  if (commandArgs.length === 0)
    return usage(
      'no command to run: put it after --, e.g. stride agent --study ID -- python train.py --lr ${lr}',
    );
  const count = v.count === undefined ? undefined : Number(v.count);
  if (count !== undefined && !(Number.isInteger(count) && count >= 1))
    return usage(`--count must be a whole number >= 1, got '${v.count}'`);
  const grace = v.grace === undefined ? 10 : Number(v.grace);
  if (!(grace >= 0)) return usage(`--grace must be a number of seconds >= 0, got '${v.grace}'`);
  const gpus =
    v.gpus === undefined
      ? undefined
      : String(v.gpus)
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean);
  if (gpus !== undefined && gpus.length === 0)
    return usage('--gpus needs at least one GPU id, e.g. --gpus 0,1');
  const study = v.study as string | undefined;
  const agent = new Agent({
    client,
    study,
    count,
    gpus,
    name: (v.name as string | undefined) ?? os.hostname(),
    command: commandArgs,
    graceMs: grace * 1000,
    wait: (v.wait as boolean | undefined) ?? study === undefined,
    out: io.out as never,
    err: io.err as never,
    tty: Boolean((io.err as { isTTY?: boolean }).isTTY),
  });
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      io.err.write(
        '\nstride agent: stopping: handing the running trials back (Ctrl-C again to quit at once)\n',
      );
      agent.stop();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await agent.run();
    if (summary.usageError) return 2;
    if (summary.interrupted) return 130;
    // Trials ran and none of them completed (all failed, pruned or lost): a failure for CI.
    return summary.ran > 0 && summary.complete === 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
