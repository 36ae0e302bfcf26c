import { seededRandom } from "./wait.js";

/**
 * The chat history `pnpm bench:search` searches: English sentences whose words follow a Zipf
 * distribution (a few words everywhere, a long tail of rare ones, as in real text), identifiers
 * that occur once or a few times (tickets, hosts, hashes), and some Chinese. Deterministic for a
 * seed, so two runs search the same corpus with the same queries.
 */

/** Chat and engineering words, most frequent first (their rank sets their Zipf weight). */
const ENGLISH = (
  "the to a and i it is of you that in we for on this be not have with just but so can do are " +
  "was what if at me my know think ok yes no will get all like about now good one up there they " +
  "here see out when how thanks its going should time make need then did would could back also " +
  "today more some work still because been want look sure right well really let him why after " +
  "deploy build server release test fix bug merge branch review main client cache latency socket " +
  "room message page window scroll render queue worker database index query table migration " +
  "config service cluster node proxy request response error timeout retry connection session login " +
  "password token user account team meeting lunch coffee tomorrow yesterday weekend morning " +
  "afternoon tonight later soon week month sprint ticket issue roadmap design spec draft document " +
  "research search report metrics dashboard alert incident outage rollback hotfix patch version " +
  "upgrade install package dependency compile bundle lint format commit push pull rebase conflict " +
  "staging production customer feedback support question answer problem solution idea plan " +
  "schedule calendar invite call video screen share notes summary agenda decision deadline " +
  "estimate priority blocker risk budget hiring interview onboarding offsite holiday vacation " +
  "birthday pizza tea snack office remote home travel flight hotel train weather rain sunny " +
  "cold warm music movie book game football basketball running cycling garden kitchen recipe " +
  "dinner breakfast friday monday tuesday wednesday thursday saturday sunday january february " +
  "march april june july august september october november december spring summer autumn winter " +
  "benchmark profile flamegraph memory heap garbage collector thread process kernel container " +
  "kubernetes docker terraform ansible nginx postgres sqlite redis kafka rabbitmq elasticsearch " +
  "grafana prometheus jaeger opentelemetry sentry pagerduty github gitlab jenkins circleci " +
  "typescript javascript python golang rust java kotlin swift haskell elixir erlang clojure " +
  "frontend backend fullstack mobile desktop browser chrome firefox safari android iphone tablet " +
  "keyboard monitor laptop charger cable adapter headphones microphone camera printer router " +
  "firewall certificate encryption signature checksum hash compression protocol websocket polling " +
  "throughput bandwidth capacity scaling sharding replication failover consensus raft paxos " +
  "idempotent eventual consistency transaction isolation deadlock lock mutex semaphore channel " +
  "async await promise callback closure iterator generator decorator annotation reflection " +
  "serialization deserialization parser lexer grammar compiler interpreter runtime sandbox " +
  "quarantine quixotic zephyr xylophone juxtapose kaleidoscope labyrinth mnemonic onomatopoeia " +
  "pneumatic quagmire rhododendron syzygy tintinnabulation ubiquitous vicissitude wanderlust"
).split(" ");

/** Chinese words, most frequent first; written without spaces, as Chinese is. */
const CHINESE = (
  "我们 今天 部署 服务器 数据库 缓存 延迟 测试 发布 问题 修复 会议 中文 简体 你好 世界 谢谢 明天 已经 完成 " +
  "可以 需要 用户 消息 房间 搜索 性能 代码 分支 合并 版本 升级 配置 集群 节点 代理 请求 响应 错误 超时 " +
  "重试 连接 会话 登录 密码 令牌 账户 团队 午饭 咖啡 昨天 周末 早上 下午 晚上 文档 报告 监控"
).split(" ");

export interface CorpusMessage {
  room: number;
  author: number;
  body: string;
}

export interface CorpusShape {
  rooms: number;
  authors: number;
}

/** Cumulative Zipf weights (exponent 1) over `n` ranks, for sampling by binary search. */
function zipf(n: number): Float64Array {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cumulative[i] = sum += 1 / (i + 1);
  for (let i = 0; i < n; i++) cumulative[i]! /= sum;
  return cumulative;
}

function sampler(random: () => number, cumulative: Float64Array): () => number {
  return () => {
    const r = random();
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** An endless, deterministic stream of messages. */
export function corpus(seed: number, shape: CorpusShape): () => CorpusMessage {
  const random = seededRandom(seed);
  const englishWord = sampler(random, zipf(ENGLISH.length));
  const chineseWord = sampler(random, zipf(CHINESE.length));
  // Rooms and authors are skewed too: one busy room and a few talkative people.
  const room = sampler(random, zipf(shape.rooms));
  const author = sampler(random, zipf(shape.authors));
  const int = (n: number) => Math.floor(random() * n);
  const identifier = (): string => {
    switch (int(4)) {
      case 0:
        return `PR-${1000 + int(9000)}`;
      case 1:
        return `db-${int(64)}.internal`;
      case 2:
        return int(0x1000000).toString(16).padStart(6, "0");
      default:
        return `#${10000 + int(90000)}`;
    }
  };
  const english = (): string => {
    const r = random();
    const count = r < 0.7 ? 3 + int(13) : r < 0.95 ? 15 + int(36) : 50 + int(101);
    const words: string[] = [];
    for (let i = 0; i < count; i++) words.push(ENGLISH[englishWord()]!);
    if (random() < 0.05) words.splice(int(words.length), 0, identifier());
    if (random() < 0.02) words.splice(int(words.length), 0, CHINESE[chineseWord()]!);
    const text = words.join(" ");
    const end = random() < 0.2 ? "?" : random() < 0.5 ? "." : random() < 0.3 ? "!" : "";
    return text.charAt(0).toUpperCase() + text.slice(1) + end;
  };
  const chinese = (): string => {
    const count = 2 + int(10);
    let text = "";
    for (let i = 0; i < count; i++) text += random() < 0.1 ? ` ${ENGLISH[englishWord()]} ` : CHINESE[chineseWord()]!;
    return text + (random() < 0.5 ? "。" : "");
  };
  return () => ({ room: room(), author: author(), body: random() < 0.06 ? chinese() : english() });
}

/** A search of the bench, named by the kind of search it stands for. */
export interface BenchQuery {
  kind: string;
  terms: string[];
  /** Room and author by index into the corpus shape; dates as fractions of the history's span. */
  room?: number;
  author?: number;
  after?: number;
  before?: number;
  /** Time the second page (with the first page's cursor) instead of the first. */
  secondPage?: boolean;
}

/**
 * The searches, a mix of what people type: common and rare words, two-letter word prefixes, infixes
 * of three letters and more, Chinese of two and four characters, several terms, filters, and
 * second pages. `identifiers` are some that occur in the corpus (rare terms that do exist).
 */
export function benchQueries(seed: number, shape: CorpusShape, identifiers: readonly string[], count: number): BenchQuery[] {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const long = ENGLISH.filter((w) => w.length >= 3);
  const common = long.slice(0, 60);
  const rare = long.slice(-120);
  const prefixes = [...new Set(ENGLISH.filter((w) => w.length >= 2).map((w) => w.slice(0, 2)))];
  const infixes = [...new Set(long.filter((w) => w.length >= 6).map((w) => w.slice(1, 1 + 3 + int(2))))];
  const chinese2 = [...CHINESE, "务器", "据库", "天部", "试发"];
  const chinese4 = CHINESE.flatMap((a) => CHINESE.filter((b) => a.length + b.length === 4).map((b) => a + b)).slice(0, 400);
  const anyTerm = (): string => pick([pick(common), pick(rare), pick(prefixes), pick(infixes), pick(chinese2)]);
  const kinds: Array<[string, number, () => BenchQuery]> = [
    ["common word", 25, () => ({ kind: "common word", terms: [pick(common)] })],
    ["rare word", 20, () => ({ kind: "rare word", terms: [pick(rare)] })],
    ["identifier", 10, () => ({ kind: "identifier", terms: [random() < 0.7 && identifiers.length > 0 ? pick(identifiers) : `PR-${int(1000)}x`] })],
    ["2-letter prefix", 25, () => ({ kind: "2-letter prefix", terms: [pick(prefixes)] })],
    ["infix", 20, () => ({ kind: "infix", terms: [pick(infixes)] })],
    ["chinese 2", 15, () => ({ kind: "chinese 2", terms: [pick(chinese2)] })],
    ["chinese 4", 10, () => ({ kind: "chinese 4", terms: [pick(chinese4)] })],
    ["multi-term", 25, () => ({ kind: "multi-term", terms: [...new Set(Array.from({ length: 2 + int(2) }, anyTerm))] })],
    ["term + room", 10, () => ({ kind: "term + room", terms: [anyTerm()], room: int(shape.rooms) })],
    ["term + author", 5, () => ({ kind: "term + author", terms: [anyTerm()], author: int(shape.authors) })],
    [
      "term + dates",
      5,
      () => {
        const after = random() * 0.9;
        return { kind: "term + dates", terms: [anyTerm()], after, before: after + 0.02 + random() * 0.1 };
      },
    ],
    ["room only", 3, () => ({ kind: "room only", terms: [], room: int(shape.rooms) })],
    ["author only", 2, () => ({ kind: "author only", terms: [], author: int(shape.authors) })],
    ["second page", 25, () => ({ ...pick(kinds.slice(0, 8))[2](), kind: "second page", secondPage: true })],
  ];
  const total = kinds.reduce((n, [, weight]) => n + weight, 0);
  const out: BenchQuery[] = [];
  for (const [, weight, make] of kinds) {
    const n = Math.round((weight / total) * count);
    for (let i = 0; i < n; i++) out.push(make());
  }
  // Interleaved, so no kind runs only on a warm (or cold) cache.
  for (let i = out.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
