// What scripts/ensure-chromium.mjs and scripts/ensure-python.mjs share: finding
// executables, the facts about this machine that decide whether Debian packages
// can be installed, the apt-get plan, and running it.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Whether `file` is an executable regular file. */
export function isExecutable(file) {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in the directories of `envPath`, or null. */
export function onPath(name, envPath = process.env.PATH ?? '', isExec = isExecutable) {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (isExec(file)) return file;
  }
  return null;
}

/** Whether apt-get can run here: as root, or with sudo that asks no password. */
export function machineFacts(env = process.env) {
  const envPath = env.PATH ?? '';
  const sudo = onPath('sudo', envPath);
  return {
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    hasSudo:
      Boolean(sudo) && spawnSync(sudo, ['-n', 'true'], { stdio: 'ignore', env }).status === 0,
    hasApt: Boolean(onPath('apt-get', envPath)),
  };
}

/**
 * The plan to install `packages` with apt-get: `{ action: 'install', commands }`
 * (each an argv), or `{ action: 'fail', message }` starting with `need` when
 * apt-get cannot run here.
 */
export function aptPlan({ isRoot, hasSudo, hasApt }, packages, need, howToFix) {
  if (!hasApt || !(isRoot || hasSudo)) {
    const why = !hasApt
      ? 'apt-get is not available'
      : 'this user is not root and has no passwordless sudo';
    return {
      action: 'fail',
      message: `${need}, and ${packages.length > 1 ? 'they' : 'it'} cannot be installed here (${why}). ${howToFix}`,
    };
  }
  const prefix = isRoot ? ['env'] : ['sudo', '-n', 'env'];
  const apt = [...prefix, 'DEBIAN_FRONTEND=noninteractive', 'apt-get'];
  return {
    action: 'install',
    commands: [
      [...apt, 'update', '-q'],
      [...apt, 'install', '-y', '-q', '--no-install-recommends', ...packages],
    ],
  };
}

/**
 * Carry out `plan` (from a script's decide()), saying what happens with `tag`:
 * 0 when what is needed is there (or, with `dry`, could be installed), else 1.
 * `find()` looks again after an install.
 */
export function carryOut(plan, { tag, dry, missing, find, howToFix }) {
  const say = (m) => console.log(`${tag}: ${m}`);
  if (plan.action === 'ok') {
    say(`using ${plan.path}`);
    return 0;
  }
  if (plan.action === 'fail') {
    console.error(`${tag}: ${plan.message}`);
    return 1;
  }
  say(
    `${missing}; ${dry ? 'would install' : 'installing'} Debian's ${plan.commands[1].slice(plan.commands[1].indexOf('--no-install-recommends') + 1).join(', ')}:`,
  );
  for (const cmd of plan.commands) {
    say(`${dry ? 'would run' : 'running'}: ${cmd.join(' ')}`);
    if (dry) continue;
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(
        `${tag}: \`${cmd.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`}). ${howToFix}`,
      );
      return 1;
    }
  }
  if (dry) return 0;
  const after = find();
  if (!after.path) {
    console.error(
      `${tag}: apt-get installed the packages, but still ${after.problem}. ${howToFix}`,
    );
    return 1;
  }
  say(`installed; using ${after.path}`);
  return 0;
}
