// Stand-in for crc-native.ts in the browser bundle (scripts/build.mjs): a browser has no native
// module, so the format layer's JS CRC-32C stays active.

/** Browser stand-in: nothing to install (the JS CRC-32C serves); always false. */
export function installNativeCrc32c(): boolean {
  return false;
}
