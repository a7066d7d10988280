import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { crc32, encodePng } from "../../src/io/png.js";

describe("PNG encoder", () => {
  it("CRC-32 of '123456789' is the standard check value 0xCBF43926", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  it("writes signature, IHDR, IDAT and IEND with valid CRCs and the pixels behind filter bytes", () => {
    const w = 3;
    const h = 2;
    const pixels = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i * 37) % 256);
    const png = encodePng(w, h, pixels, 4);
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const chunks: { type: string; data: Buffer }[] = [];
    for (let o = 8; o < png.length;) {
      const len = png.readUInt32BE(o);
      const type = png.toString("latin1", o + 4, o + 8);
      const data = png.subarray(o + 8, o + 8 + len);
      expect(png.readUInt32BE(o + 8 + len)).toBe(crc32(png.subarray(o + 4, o + 8 + len)));
      chunks.push({ type, data });
      o += 12 + len;
    }
    expect(chunks.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
    const ihdr = chunks[0].data;
    expect([
      ihdr.readUInt32BE(0),
      ihdr.readUInt32BE(4),
      ihdr[8],
      ihdr[9],
      ihdr[10],
      ihdr[11],
      ihdr[12],
    ]).toEqual([w, h, 8, 6, 0, 0, 0]);
    const raw = inflateSync(chunks[1].data);
    expect(raw.length).toBe(h * (1 + w * 4));
    for (let y = 0; y < h; y++) {
      expect(raw[y * (1 + w * 4)]).toBe(0);
      expect(Array.from(raw.subarray(y * (1 + w * 4) + 1, (y + 1) * (1 + w * 4)))).toEqual(
        Array.from(pixels.subarray(y * w * 4, (y + 1) * w * 4)),
      );
    }
  });

  it("rejects a pixel buffer of the wrong size", () => {
    expect(() => encodePng(2, 2, new Uint8Array(11))).toThrow(/expected 2·2·3/);
  });
});
