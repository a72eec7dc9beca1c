import { customType } from 'drizzle-orm/pg-core';

/** 64-bit Snowflake id kept as a decimal string end to end (JSON cannot carry it as a number). */
export const id64 = customType<{ data: string; driverData: string }>({
  dataType: () => 'bigint',
  fromDriver: (v) => String(v),
  toDriver: (v) => v,
});
