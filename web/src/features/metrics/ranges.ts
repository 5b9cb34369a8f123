export const RANGES = [15, 60, 360, 1440] as const;
export const RANGE_LABEL: Record<number, string> = { 15: "15m", 60: "1h", 360: "6h", 1440: "24h" };
