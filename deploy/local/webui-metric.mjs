// Drives the Flink web UI in headless Chromium the way a user watching a job would, and fails
// naming the first thing the page does not show:
//   job page: the job name, RUNNING, the inference vertex in the vertex table;
//   click the vertex -> drawer -> "Metrics" tab -> "Add Metric" -> pick METRIC_ID -> its value renders.
// Writes a full-page screenshot and the final DOM. Bounded: every step shares one deadline.
//
// Usage: node webui-metric.mjs   (all inputs from the environment)
//   WEBUI_URL      the job page, http://127.0.0.1:PORT/#/job/running/JOB_ID/overview
//   WEBUI_JOB_NAME, WEBUI_VERTEX_ID, WEBUI_VERTEX_NAME, WEBUI_METRIC_ID (as the REST API lists it)
//   WEBUI_PNG, WEBUI_HTML  output files; WEBUI_NODE_DIR  where playwright-core is installed
//   WEBUI_TIMEOUT_S  the whole check's budget (default 60)
// Exit codes: 0 shown; 3 the page does not show something (message on stderr); other: browser trouble.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const env = (name) => {
  const v = process.env[name];
  if (!v) { console.error(`webui-metric: ${name} is not set`); process.exit(64); }
  return v;
};
const url = env('WEBUI_URL');
const jobName = env('WEBUI_JOB_NAME');
const vertexId = env('WEBUI_VERTEX_ID');
const vertexName = env('WEBUI_VERTEX_NAME');
const metricId = env('WEBUI_METRIC_ID');
const pngPath = env('WEBUI_PNG');
const htmlPath = env('WEBUI_HTML');
const nodeDir = env('WEBUI_NODE_DIR');
const deadline = Date.now() + 1000 * Number(process.env.WEBUI_TIMEOUT_S || 60);

// playwright-core lives outside the repository (installed by install-deps.sh); never a bundled browser.
const { chromium } = createRequire(`${nodeDir}/`)('playwright-core');

class NotShown extends Error {}
const left = () => Math.max(1000, deadline - Date.now());
// One user-visible step; a timeout becomes "the page does not show <what>".
async function step(what, action) {
  try {
    return await action(left());
  } catch (e) {
    if (e.name === 'TimeoutError') throw new NotShown(`${what} (not shown within the time left)`);
    throw e;
  }
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  timeout: 30000,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage'],
});
let page;
let rc = 0;
try {
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await step(`the page ${url} (load)`, (timeout) => page.goto(url, { timeout }));

  // The job, as the header shows it.
  await step(`the job name '${jobName}'`,
    (timeout) => page.getByText(jobName, { exact: true }).first().waitFor({ state: 'visible', timeout }));
  await step('the job state RUNNING',
    (timeout) => page.getByText('RUNNING', { exact: true }).first().waitFor({ state: 'visible', timeout }));

  // The inference vertex: its row in the vertex table opens the drawer on that vertex.
  const row = page.locator('tr.clickable', { hasText: vertexName }).first();
  await step(`the vertex '${vertexName}' in the vertex table`, (timeout) => row.click({ timeout }));
  await step(`the drawer of vertex ${vertexId}`,
    (timeout) => page.waitForURL((u) => u.hash.includes(`/overview/${vertexId}/`), { timeout }));
  await step("the drawer's Metrics tab",
    (timeout) => page.locator('.ant-tabs-tab', { hasText: /^\s*Metrics\s*$/ }).first().click({ timeout }));

  // "Add Metric": a searchable select; type the id, pick the matching option.
  const selector = page.locator('.metric-selector nz-select');
  await step("the 'Add Metric' selector", (timeout) => selector.click({ timeout }));
  await step("the 'Add Metric' search box",
    (timeout) => page.locator('.metric-selector input').fill(metricId, { timeout }));
  await step(`the option '${metricId}' in 'Add Metric'`,
    (timeout) => page.locator('.ant-select-item-option', { hasText: metricId }).first().click({ timeout }));

  // The metric's card: larger, and as a number so the value can be read and checked.
  const card = page.locator('flink-job-chart', { has: page.locator(`.title .text[title="${metricId}"]`) }).first();
  await step(`the metric card '${metricId}'`, (timeout) => card.waitFor({ state: 'visible', timeout }));
  await step("the metric card's 'Big' button", (timeout) => card.getByRole('button', { name: 'Big' }).click({ timeout }));
  await step("the metric card's 'Numeric' button", (timeout) => card.getByRole('button', { name: 'Numeric' }).click({ timeout }));
  // Until the first fetch the card shows "-"; a number means the UI rendered a reported value.
  const value = card.locator('.numeric', { hasText: /\d/ });
  await step(`a value for '${metricId}'`, (timeout) => value.waitFor({ state: 'visible', timeout }));
  await step(`the metric name '${metricId}'`,
    (timeout) => card.getByText(metricId, { exact: true }).waitFor({ state: 'visible', timeout }));
  const shown = (await value.textContent()).trim();

  await page.screenshot({ path: pngPath, fullPage: true });
  console.log(`${metricId} = ${shown}`);
} catch (e) {
  rc = e instanceof NotShown ? 3 : 1;
  console.error(e instanceof NotShown ? `the web UI does not show ${e.message}` : `web UI check broke: ${e.stack || e}`);
  // What the page showed instead, kept apart from the real artifact.
  if (page) await page.screenshot({ path: pngPath.replace(/\.png$/, '') + '-failed.png', fullPage: true }).catch(() => {});
} finally {
  if (page) writeFileSync(htmlPath, await page.content().catch(() => ''));
  await browser.close().catch(() => {});
}
process.exit(rc);
