// Assignment (docs/tracking.md): MurmurHash3 x86_32 of "<experimentId>:<visitorCode>", point = hash / 2^32,
// then the first deviation, origin (id 0) first and ids ascending, whose running sum is above the point.
function murmur3(bytes, seed) {
  let h = seed >>> 0;
  const n = bytes.length, whole = n - (n % 4);
  const mix = (k) => {
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    return Math.imul(k, 0x1b873593);
  };
  for (let i = 0; i < whole; i += 4) {
    h ^= mix(bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let i = n - 1; i >= whole; i--) k = (k << 8) | bytes[i];
  if (n & 3) h ^= mix(k);
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function assign(experimentId, visitorCode, deviations) {
  const point = murmur3(new TextEncoder().encode(experimentId + ":" + visitorCode), 0) / 4294967296;
  const entries = Object.keys(deviations)
    .map((key) => [key === "origin" ? 0 : Number(key), Number(deviations[key])])
    .sort((a, b) => a[0] - b[0]);
  let sum = 0;
  for (const [variationId, share] of entries) {
    sum += share;
    if (point < sum) return variationId;
  }
  return null;
}
