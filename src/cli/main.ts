/**
 * The `stride` command line (Node). Speaks only HTTP to the service.
 *
 *   stride agent --study ID [--count N] [--gpus 0,1,2,3] [--name NAME] -- <command with ${param} placeholders>
 *
 * Configuration: STRIDE_URL (default http://localhost:8787) and
 * STRIDE_API_KEY, or --url and --key.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Agent } from './agent';
import { StrideClient } from './client';

const USAGE = `usage: stride <command> [options]

commands:
  agent   lease trials of runner studies and run a training command for each

  stride agent [--study ID] [--count N] [--gpus 0,1,...] [--name NAME] [--grace SECONDS] [--wait] -- command args...

    Placeholders \${name} in the command take the trial's params (\${name:-default} when the
    trial may lack one; \${trial} and \${study} too). The command also gets STRIDE_PARAMS (JSON),
    STRIDE_TRIAL, STRIDE_STUDY and STRIDE_METRICS_FILE, and with --gpus CUDA_VISIBLE_DEVICES.
    It reports with stdout lines  stride: {"step": 3, "value": 0.41}  and a final
    stride: {"value": 0.37}  (or the same JSON lines appended to $STRIDE_METRICS_FILE).

    --study ID     lease only from this study (default: any runner study; then --wait is implied)
    --count N      run at most N trials, then exit
    --gpus LIST    one trial at a time per GPU id, in parallel
    --name NAME    the runner's name in leases (default: the host name)
    --grace S      seconds between SIGTERM and SIGKILL when stopping a trial (default 10)
    --wait         keep waiting for work when the study has none left

options for every command:
  --url URL      the service (default $STRIDE_URL, else http://localhost:8787)
  --key KEY      the API key (default $STRIDE_API_KEY); a runner key is enough for the agent
`;

/** Run the command line; resolves to the process exit code. */
export async function main(argv: string[], io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream } = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    io.out.write(USAGE);
    return command ? 0 : 2;
  }
  if (command !== 'agent') {
    io.err.write(`stride: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        study: { type: 'string' },
        count: { type: 'string' },
        gpus: { type: 'string' },
        name: { type: 'string' },
        grace: { type: 'string' },
        wait: { type: 'boolean' },
        url: { type: 'string' },
        key: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err.write(`stride agent: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    io.out.write(USAGE);
    return 0;
  }
  const fail = (msg: string) => {
    io.err.write(`stride agent: ${msg}\n`);
    return 2;
  };
  const commandArgs = parsed.positionals;
  if (commandArgs.length === 0) return fail('no command to run: put it after --, e.g. stride agent --study ID -- python train.py --lr ${lr}');
  const count = v.count === undefined ? undefined : Number(v.count);
  if (count !== undefined && !(Number.isInteger(count) && count >= 1)) return fail(`--count must be a whole number >= 1, got '${v.count}'`);
  const grace = v.grace === undefined ? 10 : Number(v.grace);
  if (!(grace >= 0)) return fail(`--grace must be a number of seconds >= 0, got '${v.grace}'`);
  const gpus = v.gpus === undefined ? undefined : v.gpus.split(',').map((g) => g.trim()).filter(Boolean);
  if (gpus !== undefined && gpus.length === 0) return fail('--gpus needs at least one GPU id, e.g. --gpus 0,1');
  const url = v.url ?? process.env.STRIDE_URL ?? 'http://localhost:8787';
  const key = v.key ?? process.env.STRIDE_API_KEY;
  if (!key) return fail('no API key: set STRIDE_API_KEY (a runner key is enough) or pass --key');
  try {
    new URL(url);
  } catch {
    return fail(`--url / STRIDE_URL is not a URL: '${url}'`);
  }

  const agent = new Agent({
    client: new StrideClient({ url, key }),
    study: v.study,
    count,
    gpus,
    name: v.name ?? os.hostname(),
    command: commandArgs,
    graceMs: grace * 1000,
    wait: v.wait ?? v.study === undefined,
    out: io.out as never,
    err: io.err as never,
    tty: Boolean((io.err as { isTTY?: boolean }).isTTY),
  });
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      io.err.write('\nstride agent: stopping: handing the running trials back (Ctrl-C again to quit at once)\n');
      agent.stop();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await agent.run();
    return summary.interrupted ? 130 : 0;
  } catch (err) {
    io.err.write(`stride agent: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
