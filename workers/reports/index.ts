// Public surface of workers/reports: the report schema and its renderers.
export * from './schema.js';
export { renderJunit, xmlEscape } from './junit.js';
export { renderSummary } from './summary.js';
export { renderHtml, chartData } from './html.js';
export { writeReport, parseReport, upgradeReport, REPORT_FILES } from './write-report.js';
export { summaryOf, violationsOf, type TViolationRecord } from './records.js';
