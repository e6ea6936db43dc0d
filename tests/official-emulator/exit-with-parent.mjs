// Loaded with `node --import` before WorkOS's CLI: ends this Node process as soon as its
// standard input closes. The Rust test harness keeps the write end of that pipe open for as
// long as it wants the emulator, and the kernel closes it when the test process ends, however
// it ends (a normal exit that never runs destructors, a panic, a kill). So no emulator outlives
// the test that started it.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
