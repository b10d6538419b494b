// GCSTATS_FILE in a sticky world-writable directory (/tmp's kind): gcstats
// applies the kernel's protected_symlinks, protected_regular and
// protected_fifos rules itself, whatever the sysctls say. Elsewhere paths
// behave as always. Also: the reasons of a destination that cannot be used.
// Needs root (to give files to `nobody`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, closeSync, constants, existsSync, lchownSync, mkdirSync, openSync,
  readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeBin, run, baseEnv, tempDir, parseLines } from './harness.mjs';

const NOBODY = 65534;
// Start and exit lines are enough here.
const args = ['-e', 'setTimeout(() => {}, 10)'];
const isRoot = process.getuid() === 0;

function setup() {
  const dir = tempDir();
  const sticky = join(dir, 'sticky');
  const plain = join(dir, 'plain');
  mkdirSync(sticky);
  chmodSync(sticky, 0o1777);
  mkdirSync(plain);
  chmodSync(plain, 0o777);   // world-writable but not sticky
  const mine = join(dir, 'mine.jsonl');
  writeFileSync(mine, 'precious\n');
  return { dir, sticky, plain, mine };
}

async function runWith(path, extra = {}) {
  const res = await run(nodeBin, args, { env: baseEnv({ GCSTATS_FILE: path, ...extra }) });
  assert.equal(res.code, 0, res.stderr);
  return res;
}

// The one error line a refused path gives, and nothing else.
function refusal(res) {
  const lines = parseLines(res.stderr);
  assert.equal(lines.length, 1, res.stderr);
  assert.equal(lines[0].event, 'error');
  return lines[0].reason;
}

function hasLines(text) {
  const lines = parseLines(text);
  assert.ok(lines.some((l) => l.event === 'start') && lines.some((l) => l.event === 'exit'), text.slice(0, 300));
}

test('a symlink of another user in a sticky directory is not followed', { skip: !isRoot && 'needs root' }, async () => {
  const { sticky, mine } = setup();
  const link = join(sticky, 'gc.jsonl');
  symlinkSync(mine, link);
  lchownSync(link, NOBODY, NOBODY);
  const reason = refusal(await runWith(link));
  assert.match(reason, /refused symlink gc\.jsonl: owner uid 65534 is neither ours nor the sticky world-writable directory's; gcstats writes nothing$/);
  assert.equal(readFileSync(mine, 'utf8'), 'precious\n', 'the target is untouched');
});

test('the same symlink owned by us is followed', { skip: !isRoot && 'needs root' }, async () => {
  const { sticky, mine } = setup();
  const link = join(sticky, 'gc.jsonl');
  symlinkSync(mine, link);
  const res = await runWith(link);
  assert.equal(res.stderr, '');
  const text = readFileSync(mine, 'utf8');
  assert.ok(text.startsWith('precious\n'));
  hasLines(text.slice('precious\n'.length));
});

test('a symlink of another user on the way to the file is not followed either', { skip: !isRoot && 'needs root' }, async () => {
  const { dir, sticky } = setup();
  const target = join(dir, 'target');
  mkdirSync(target);
  const link = join(sticky, 'logs');
  symlinkSync(target, link);
  lchownSync(link, NOBODY, NOBODY);
  const reason = refusal(await runWith(join(link, 'gc.jsonl')));
  assert.match(reason, /refused symlink logs: owner uid 65534/);
  assert.equal(existsSync(join(target, 'gc.jsonl')), false);
});

test('a regular file or a FIFO of another user in a sticky directory is not opened', { skip: !isRoot && 'needs root' }, async () => {
  const { sticky } = setup();
  const file = join(sticky, 'gc.jsonl');
  writeFileSync(file, 'theirs\n');
  chownSync(file, NOBODY, NOBODY);
  assert.match(refusal(await runWith(file)), /refused file gc\.jsonl: owner uid 65534/);
  assert.equal(readFileSync(file, 'utf8'), 'theirs\n', 'the file is untouched');

  const fifo = join(sticky, 'fifo');
  const made = await run('mkfifo', [fifo]);
  assert.equal(made.code, 0, made.stderr);
  chownSync(fifo, NOBODY, NOBODY);
  // With a reader, the FIFO opens: the refusal is gcstats' own.
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    assert.match(refusal(await runWith(fifo)), /refused FIFO fifo: owner uid 65534/);
  } finally {
    closeSync(reader);
  }
});

test('outside a sticky directory, symlinks are followed as before', { skip: !isRoot && 'needs root' }, async () => {
  const { plain, mine } = setup();
  const link = join(plain, 'gc.jsonl');
  symlinkSync(mine, link);
  lchownSync(link, NOBODY, NOBODY);
  const res = await runWith(link);
  assert.equal(res.stderr, '');
  hasLines(readFileSync(mine, 'utf8').slice('precious\n'.length));
});

test('GCSTATS_FILE=/dev/stdout writes to standard output', async () => {
  // Through a pipe: node's own stdio pipes are sockets, which /proc/self/fd
  // cannot reopen (ENXIO, with or without gcstats' rules).
  const res = await run('sh', ['-c', '"$0" "$@" | cat', nodeBin, ...args],
    { env: baseEnv({ GCSTATS_FILE: '/dev/stdout' }) });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stderr, '');
  hasLines(res.stdout.split('\n').filter((l) => l !== '').join('\n'));
});

test('/dev/tty without a controlling terminal is not called a FIFO', async () => {
  // setsid: a new session, so no controlling terminal: opening /dev/tty gives ENXIO.
  const res = await run('setsid', ['-w', nodeBin, ...args], { env: baseEnv({ GCSTATS_FILE: '/dev/tty' }) });
  assert.equal(res.code, 0, res.stderr);
  const reason = refusal(res);
  assert.equal(reason, 'GCSTATS_FILE=/dev/tty cannot be opened (No such device or address); gcstats writes nothing');
});

test('a FIFO with no reader is called one', async () => {
  const fifo = join(tempDir(), 'fifo');
  assert.equal((await run('mkfifo', [fifo])).code, 0);
  assert.equal(refusal(await runWith(fifo)), `GCSTATS_FILE=${fifo} cannot be opened (a FIFO with no reader); gcstats writes nothing`);
});

test('a 1000-byte path is shortened inside the message, which stays whole', async () => {
  const path = '/nonexistent-dir' + ('/' + 'd'.repeat(98)).repeat(10);
  assert.ok(path.length > 990 && path.length < 1024);
  const reason = refusal(await runWith(path));
  assert.ok(Buffer.byteLength(reason) < 255, reason);
  assert.ok(reason.startsWith(`GCSTATS_FILE=${path.slice(0, 100)}... cannot be opened`), reason);
  assert.ok(reason.endsWith('(No such file or directory); gcstats writes nothing'), reason);
});

test('a long NODE_CHANNEL_FD naming GCSTATS_FD is shortened inside the message too', async () => {
  const channel = '3' + ' '.repeat(400) + 'x';   // atoi() reads 3
  const res = await run(nodeBin, args, {
    env: baseEnv({ GCSTATS_FD: '3', NODE_CHANNEL_FD: channel }),
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const reason = refusal(res);
  assert.ok(Buffer.byteLength(reason) < 255, reason);
  assert.ok(reason.endsWith('...); gcstats writes nothing'), reason);
});
