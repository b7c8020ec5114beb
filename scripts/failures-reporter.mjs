// A node:test reporter that keeps only the failed tests (file, name, first lines of the error), so
// the end of a long run says which test failed: CI shows only the last lines of the output.
export default async function* failures(source) {
  const seen = [];
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, details } = event.data;
    // a failing subtest also fails every suite around it: keep the innermost (it comes first)
    if (details?.error?.failureType === 'subtestsFailed') continue;
    const err = details?.error?.cause ?? details?.error;
    const text = String(err?.stack ?? err?.message ?? err).split('\n').slice(0, 5).join('\n    ');
    seen.push(`not ok - ${name}\n  file: ${file ?? '?'}\n    ${text}\n`);
  }
  yield seen.length ? `# failed tests (${seen.length}):\n${seen.join('')}` : '';
}
