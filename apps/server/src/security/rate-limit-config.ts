import { z } from "zod";
import { DEFAULT_BUDGETS, scaleBudgets, type Budget, type RateLimitBudgets } from "./rate-limits.js";

/** "<points>/<seconds>", e.g. "30/10": 30 per 10 s. */
const BudgetSchema = z
  .string()
  .regex(/^\d+\/\d+$/, 'expected "<points>/<seconds>", e.g. "30/10"')
  .transform((value): Budget => {
    const [points, seconds] = value.split("/").map(Number) as [number, number];
    return { points, durationSec: seconds };
  })
  .refine((b) => b.points >= 1 && b.durationSec >= 1, "points and seconds must be at least 1");

const Count = z.coerce.number().int().min(1);

/**
 * The rate-limit budgets from the environment (defaults and their reasons: DEFAULT_BUDGETS). Every
 * variable is optional; RATE_LIMIT_SCALE multiplies every budget and is meant for test and benchmark
 * servers that legitimately send fast (seeding thousands of messages, hundreds of bots on one IP).
 */
const RateLimitEnvSchema = z.object({
  RATE_LIMIT_MESSAGE_SEND: BudgetSchema.optional(),
  RATE_LIMIT_MESSAGE_BURST: BudgetSchema.optional(),
  RATE_LIMIT_ROOM_CREATE: BudgetSchema.optional(),
  RATE_LIMIT_DM_OPEN: BudgetSchema.optional(),
  RATE_LIMIT_SEARCH: BudgetSchema.optional(),
  RATE_LIMIT_MODERATION: BudgetSchema.optional(),
  RATE_LIMIT_PROFILE: BudgetSchema.optional(),
  RATE_LIMIT_UPLOAD: BudgetSchema.optional(),
  RATE_LIMIT_TYPING: BudgetSchema.optional(),
  /** "<failures>/<first block seconds>": free wrong passwords per nickname+IP, then the doubling block. */
  RATE_LIMIT_SIGNIN_CONSECUTIVE: BudgetSchema.optional(),
  RATE_LIMIT_SIGNIN_PER_IP: BudgetSchema.optional(),
  RATE_LIMIT_ACCOUNTS_PER_IP: BudgetSchema.optional(),
  MAX_SOCKETS_PER_USER: Count.optional(),
  MAX_SOCKETS_PER_IP: Count.optional(),
  RATE_LIMIT_SCALE: z.coerce.number().positive().optional(),
});

/** Parses the rate-limit variables of `env` (empty values already removed); throws naming the variable. */
export function loadRateLimitBudgets(env: Record<string, string | undefined>): RateLimitBudgets {
  const parsed = RateLimitEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  const d = DEFAULT_BUDGETS;
  const budgets: RateLimitBudgets = {
    messageSend: e.RATE_LIMIT_MESSAGE_SEND ?? d.messageSend,
    messageBurst: e.RATE_LIMIT_MESSAGE_BURST ?? d.messageBurst,
    roomCreate: e.RATE_LIMIT_ROOM_CREATE ?? d.roomCreate,
    dmOpen: e.RATE_LIMIT_DM_OPEN ?? d.dmOpen,
    search: e.RATE_LIMIT_SEARCH ?? d.search,
    moderation: e.RATE_LIMIT_MODERATION ?? d.moderation,
    profile: e.RATE_LIMIT_PROFILE ?? d.profile,
    upload: e.RATE_LIMIT_UPLOAD ?? d.upload,
    typing: e.RATE_LIMIT_TYPING ?? d.typing,
    signInConsecutive: e.RATE_LIMIT_SIGNIN_CONSECUTIVE ?? d.signInConsecutive,
    signInPerIp: e.RATE_LIMIT_SIGNIN_PER_IP ?? d.signInPerIp,
    accountsPerIp: e.RATE_LIMIT_ACCOUNTS_PER_IP ?? d.accountsPerIp,
    socketsPerUser: e.MAX_SOCKETS_PER_USER ?? d.socketsPerUser,
    socketsPerIp: e.MAX_SOCKETS_PER_IP ?? d.socketsPerIp,
  };
  return e.RATE_LIMIT_SCALE === undefined ? budgets : scaleBudgets(budgets, e.RATE_LIMIT_SCALE);
}
