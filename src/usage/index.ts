/**
 * Usage ledger, quotas and reports: one store over SQLite (embedded, default) or PostgreSQL.
 *
 * Wiring (main.ts): `parseUsageConfig(env)` → `openUsageStore({ target, prices, quotaDefaults, … })`
 * → pass the store to whatever makes DashScope calls; `store.close()` at shutdown.
 * Per call: `reserve` → DashScope call → `recordCall(…, { reservationId })` → deliver →
 * `recordDelivery`.
 */
export { openUsageStore, DEFAULT_RESERVATION_TTL_MS, type UsageStore, type OpenUsageStoreOptions } from "./store.js";
export {
  resolveDatabaseTarget,
  openUsageDb,
  DEFAULT_SQLITE_PATH,
  type DatabaseTarget,
  type UsageDb,
  type UsageDialect,
} from "./db.js";
export { migrateUsageDb, usageMigrations } from "./migrations.js";
export { parseUsageConfig, type UsageConfig, type UsageConfigResult } from "./config.js";
export {
  estimateCost,
  parsePrices,
  pricesSchema,
  modelPriceSchema,
  EXAMPLE_PRICES,
  type PriceTable,
  type ModelPrice,
  type PricedUsage,
} from "./prices.js";
export {
  recordCall,
  recordDelivery,
  rebuildUsageTotals,
  callRecordSchema,
  LOCAL_REQUEST_ID_PREFIX,
  type CallRecord,
  type RecordCallResult,
} from "./ledger.js";
export {
  reserve,
  settle,
  release,
  sweepReservations,
  quotaStatus,
  getQuotaSettings,
  updateQuotaSettings,
  type QuotaLimit,
  type ReserveInput,
  type ReserveResult,
  type SettleActual,
  type FinishResult,
  type QuotaStatus,
  type Allowance,
  type GuildQuotaSettings,
} from "./quotas.js";
export {
  DEFAULT_QUOTA_SETTINGS,
  quotaSettingsSchema,
  quotaSettingsPatchSchema,
  QUOTA_SETTING_NAMES,
  type QuotaSettings,
  type QuotaSettingsPatch,
  type QuotaOverrides,
  type QuotaSettingName,
} from "./quota-settings.js";
export {
  usageReport,
  failureCodes,
  topSpenders,
  dailySeries,
  memberReport,
  ledgerRows,
  LEDGER_CSV_COLUMNS,
  type UsageReport,
  type UsageTotals,
  type ReportScope,
  type GuildScope,
  type TopEntry,
  type DailyPoint,
  type MemberReport,
  type LedgerRow,
} from "./reports.js";
export { toCsv, csvField, type CsvValue } from "./csv.js";
export { periodRange, REPORT_PERIODS, type ReportPeriod } from "./periods.js";
export { FEATURES, type Feature } from "./schema.js";
