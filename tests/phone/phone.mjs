// A resident's phone: Debian's chromium, headless, at a phone-sized viewport, through the
// check-in page a poster's URL opens. Run by tests/resident.rs with a plan (JSON, argv[2]);
// writes what it saw to plan.out/phone-result.json and screenshots of every screen in both
// languages to plan.out. Any step that does not show what a resident should see throws, and
// the process exits non-zero with the step's name.
import { chromium } from "playwright-core";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = plan.out;
const result = { steps: [] };
// The test deployment's TLS certificate is signed by its own CA, which this browser does not know.
const PHONE = { ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
// A slow mobile network: 1.6 Mbit/s down, 750 kbit/s up, 150 ms latency.
const THROTTLE = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 };

let step = "launch";
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic"],
  // Playwright gives every launch a fresh, empty profile directory of its own.
});

function expect(cond, what) {
  if (!cond) throw new Error(`${step}: ${what}`);
}
async function phone(lang) {
  const ctx = await browser.newContext({ ...PHONE, locale: lang === "en" ? "en-GB" : "zh-CN" });
  const page = await ctx.newPage();
  page.on("dialog", d => d.accept());
  return { ctx, page };
}
async function shot(page, name) {
  await page.screenshot({ path: join(out, `phone-${name}.png`) });
  result.steps.push(name);
}
async function text(page, sel) {
  return (await page.locator(sel).innerText()).trim();
}
async function addImage(page, file) {
  await page.setInputFiles("#file", file);
}
async function addText(page, code) {
  await page.fill("#paste", code);
  await page.click("#paste-add");
}
async function people(page) {
  return page.locator("#people li").count();
}

try {
  // 1. First load on a throttled network: bytes and time until the venue shows.
  step = "first load";
  {
    const { ctx, page } = await phone("zh");
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await cdp.send("Network.emulateNetworkConditions", THROTTLE);
    let bytes = 0;
    cdp.on("Network.loadingFinished", e => { bytes += e.encodedDataLength; });
    const t0 = Date.now();
    await page.goto(plan.base + plan.poster, { waitUntil: "commit" });
    await page.waitForFunction(v => document.getElementById("venue-name")?.textContent === v, plan.venue_name);
    result.venue_shown_ms = Date.now() - t0;
    await page.waitForLoadState("load");
    result.first_load_bytes = bytes;
    expect(await page.locator("#nobody").isVisible(), "a first visit asks for a health code");
    expect((await text(page, "#direction")) === "进", "the door's direction shows");
    await shot(page, "first-zh");
    await page.click("#lang");
    await page.waitForFunction(() => document.documentElement.lang === "en");
    await shot(page, "first-en");
    await ctx.close();
  }

  // 2. Add my code from a screenshot (the scanner module loads now), check in: the result.
  step = "my code";
  const { ctx, page } = await phone("zh");
  await page.goto(plan.base + plan.poster);
  await addImage(page, plan.images.mine);
  await page.waitForSelector("#person-0", { timeout: 20000 });
  expect((await text(page, "#person-0 .name")) === plan.names.mine, "my masked name shows");
  result.scanner_loaded = true;
  await shot(page, "added-zh");
  await page.click("#lang");
  await shot(page, "added-en");
  await page.click("#lang");
  step = "check in";
  await page.click("#go");
  await page.waitForSelector("#result.pass", { timeout: 10000 });
  const clock1 = await text(page, "#clock");
  expect((await text(page, "#verdict")) === "通行", "PASS in words");
  expect((await text(page, "#r-venue")) === plan.venue_name, "venue on the result");
  expect((await text(page, "#r-direction")) === "进", "进 on the result");
  await shot(page, "pass-zh");
  await page.waitForTimeout(1300);
  expect((await text(page, "#clock")) !== clock1, "the clock runs (a screenshot would be stale)");
  const mark1 = await page.locator("#mark").boundingBox();
  await page.waitForTimeout(400);
  const mark2 = await page.locator("#mark").boundingBox();
  expect(mark1.x !== mark2.x, "the mark moves");
  result.checked_in = 1;

  // 3. A family member from a photo: two people, two check-ins.
  step = "family";
  await page.click("#back");
  await addImage(page, plan.images.family);
  await page.waitForSelector("#person-1", { timeout: 20000 });
  expect((await text(page, "#go")).includes("2"), "the button counts two people");
  await shot(page, "family-zh");
  await page.click("#go");
  await page.waitForSelector("#result.pass #r-person-1", { timeout: 10000 });
  await shot(page, "family-pass-zh");
  await page.click("#back");
  result.checked_in += 2;

  // 4. Bad input on the phone: nothing added, a plain message.
  step = "bad input";
  await addImage(page, plan.images.garbage);
  await page.waitForFunction(() => /没有找到/.test(document.getElementById("add-error").textContent), null, { timeout: 20000 });
  await shot(page, "garbage-zh");
  await addText(page, plan.texts.expired);
  await page.waitForFunction(() => /过期/.test(document.getElementById("add-error").textContent));
  await shot(page, "expired-zh");
  await addText(page, plan.texts.mine);
  await page.waitForFunction(() => /已经添加/.test(document.getElementById("add-error").textContent));
  await addText(page, plan.base + plan.poster);
  await page.waitForFunction(() => /不是健康码/.test(document.getElementById("add-error").textContent));
  expect((await people(page)) === 2, "nothing was added by bad input");
  // The same messages in English.
  await page.click("#lang");
  await addImage(page, plan.images.garbage);
  await page.waitForFunction(() => /No QR code/.test(document.getElementById("add-error").textContent), null, { timeout: 20000 });
  await shot(page, "garbage-en");
  await addText(page, plan.texts.expired);
  await page.waitForFunction(() => /expired/.test(document.getElementById("add-error").textContent));
  await shot(page, "expired-en");
  await page.click("#lang");

  // 5. English: the same screens.
  step = "english";
  await page.click("#lang");
  await shot(page, "family-en");
  await page.click("#go");
  await page.waitForSelector("#result.pass", { timeout: 10000 });
  expect((await text(page, "#verdict")) === "PASS", "PASS in English");
  expect((await text(page, "#r-direction")) === "IN", "IN in English");
  await shot(page, "pass-en");
  result.checked_in += 2;
  await page.click("#back");

  // 6. Offline: the phone cannot check in and shows my own code for the inspector.
  step = "offline";
  await ctx.setOffline(true);
  await page.click("#lang");
  await page.click("#go");
  await page.waitForSelector("#offline:not([hidden]) #o-qr svg", { timeout: 10000 });
  await shot(page, "offline-zh");
  await page.locator("#o-qr svg").screenshot({ path: join(out, "phone-offline-code.png") });
  result.offline_code_png = join(out, "phone-offline-code.png");
  await page.click("#o-lang");
  await shot(page, "offline-en");
  await ctx.setOffline(false);
  await ctx.close();

  // 7. A red code: refused, said plainly, with the venue's phone.
  step = "red";
  for (const lang of ["zh", "en"]) {
    const { ctx, page } = await phone(lang);
    await page.goto(plan.base + plan.poster);
    await addText(page, plan.texts.red);
    await page.waitForSelector("#person-0");
    await shot(page, `red-added-${lang}`);
    await page.click("#go");
    await page.waitForSelector("#result.refuse", { timeout: 10000 });
    const help = await text(page, "#help");
    expect(help.includes(plan.venue_phone), "the venue's phone on a refusal");
    expect((await text(page, "#verdict")) === (lang === "en" ? "NO ENTRY" : "禁止进入"), "refused in words");
    await shot(page, `refuse-${lang}`);
    result.refused = (result.refused || 0) + 1;
    await ctx.close();
  }

  // 8. Posters that open nothing: altered, another city's.
  step = "bad posters";
  for (const [name, path] of [["tampered", plan.tampered], ["other-city", plan.other_city]]) {
    for (const lang of ["zh", "en"]) {
      const { ctx, page } = await phone(lang);
      await page.goto(plan.base + path);
      await page.waitForSelector("#poster-error:not([hidden])");
      result[`${name}_${lang}`] = await text(page, "#pe-text");
      await shot(page, `${name}-${lang}`);
      await ctx.close();
    }
  }
  step = "done";
} catch (e) {
  result.error = String(e && e.stack || e);
  result.failed_step = step;
}
writeFileSync(join(out, "phone-result.json"), JSON.stringify(result, null, 2));
await browser.close();
if (result.error) {
  console.error(`phone: ${result.failed_step}: ${result.error}`);
  process.exit(1);
}
