/**
 * mulberry32: a tiny, well-mixed 32-bit PRNG, deterministic across platforms
 * (Math.random is not seedable). One definition for the fault proxy's
 * toxicity draws, the nemesis planner and the sample report.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
