/* BlurHash placeholders: every <img data-blurhash="..."> shows a blurred preview of itself
 * (decoded here at most 32 px, drawn as its CSS background, cover) until the image has loaded.
 * Runs on page load and on content htmx swaps in. Our own small decoder of the public BlurHash
 * algorithm (https://github.com/woltapp/blurhash/blob/master/Algorithm.md); the hashes are made
 * on the server when an image is saved (imaging/placeholders.py). */
(function () {
  "use strict";

  const DIGITS =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
  const SIDE = 32; // decoded size of the longer side: a blur needs no more
  const urls = new Map(); // hash + size -> data URL: many tiles can share one hash

  function decode83(text, start, end) {
    let value = 0;
    for (let i = start; i < end; i++) {
      const digit = DIGITS.indexOf(text[i]);
      if (digit < 0) throw new Error("not a BlurHash");
      value = value * 83 + digit;
    }
    return value;
  }

  function toLinear(value) {
    const v = value / 255;
    return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }

  function toSRGB(value) {
    const v = Math.max(0, Math.min(1, value));
    return v <= 0.0031308
      ? Math.trunc(v * 12.92 * 255 + 0.5)
      : Math.trunc((1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255 + 0.5);
  }

  function signPow(value, exponent) {
    return Math.sign(value) * Math.pow(Math.abs(value), exponent);
  }

  /* RGBA pixels (Uint8ClampedArray, width x height) of a BlurHash; throws on a bad hash. */
  function decode(hash, width, height, punch) {
    if (typeof hash !== "string" || hash.length < 6) throw new Error("not a BlurHash");
    const sizeFlag = decode83(hash, 0, 1);
    const numX = (sizeFlag % 9) + 1;
    const numY = Math.floor(sizeFlag / 9) + 1;
    if (hash.length !== 4 + 2 * numX * numY) throw new Error("not a BlurHash");
    const maximum = ((decode83(hash, 1, 2) + 1) / 166) * (punch || 1);
    const colours = [];
    const dc = decode83(hash, 2, 6);
    colours.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
    for (let i = 1; i < numX * numY; i++) {
      const ac = decode83(hash, 4 + i * 2, 6 + i * 2);
      colours.push([
        signPow((Math.floor(ac / (19 * 19)) - 9) / 9, 2) * maximum,
        signPow(((Math.floor(ac / 19) % 19) - 9) / 9, 2) * maximum,
        signPow(((ac % 19) - 9) / 9, 2) * maximum,
      ]);
    }
    // The cosines depend on one axis each: compute them once, not per pixel.
    const cosX = table(width, numX);
    const cosY = table(height, numY);
    const pixels = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let j = 0; j < numY; j++) {
          for (let i = 0; i < numX; i++) {
            const basis = cosX[x * numX + i] * cosY[y * numY + j];
            const colour = colours[i + j * numX];
            r += colour[0] * basis;
            g += colour[1] * basis;
            b += colour[2] * basis;
          }
        }
        const at = 4 * (x + y * width);
        pixels[at] = toSRGB(r);
        pixels[at + 1] = toSRGB(g);
        pixels[at + 2] = toSRGB(b);
        pixels[at + 3] = 255;
      }
    }
    return pixels;
  }

  function table(length, components) {
    const values = new Float64Array(length * components);
    for (let p = 0; p < length; p++) {
      for (let c = 0; c < components; c++) {
        values[p * components + c] = Math.cos((Math.PI * p * c) / length);
      }
    }
    return values;
  }

  /* A data URL of the hash decoded at most SIDE px, in the image's own aspect ratio. */
  function dataUrl(hash, aspect) {
    const width = aspect >= 1 ? SIDE : Math.max(1, Math.round(SIDE * aspect));
    const height = aspect >= 1 ? Math.max(1, Math.round(SIDE / aspect)) : SIDE;
    const key = hash + "/" + width + "x" + height;
    let url = urls.get(key);
    if (url === undefined) {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext("2d");
      context.putImageData(new ImageData(decode(hash, width, height), width, height), 0, 0);
      url = canvas.toDataURL();
      urls.set(key, url);
    }
    return url;
  }

  function clear(img) {
    img.style.backgroundImage = "";
    img.style.backgroundSize = "";
    img.style.backgroundPosition = "";
  }

  function show(img) {
    if (img.dataset.blurhashShown) return; // htmx and page load may both hand it to us
    img.dataset.blurhashShown = "1";
    if (img.complete && img.naturalWidth > 0) return; // already loaded: nothing to cover
    const width = Number(img.getAttribute("width")) || 1;
    const height = Number(img.getAttribute("height")) || 1;
    let url;
    try {
      url = dataUrl(img.dataset.blurhash, width / height);
    } catch (error) {
      return; // a bad hash only costs the placeholder
    }
    img.style.backgroundImage = 'url("' + url + '")';
    img.style.backgroundSize = "cover";
    img.style.backgroundPosition = "center";
    img.addEventListener("load", () => clear(img), { once: true });
  }

  function showWithin(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("img[data-blurhash]")) show(root);
    root.querySelectorAll("img[data-blurhash]").forEach(show);
  }

  window.darkroomPlaceholders = { decode: decode, showWithin: showWithin };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => showWithin(document.body));
  } else {
    showWithin(document.body);
  }
  if (window.htmx) window.htmx.onLoad(showWithin);
  else document.addEventListener("htmx:load", (event) => showWithin(event.target));
})();
