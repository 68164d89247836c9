/* Synthetic charts.spotify.com chart files (or Kaggle charts.csv files): a deterministic
 * model of tracks, regions and daily streams, streamed out one chart at a time.
 *
 * The model
 * ---------
 * Tracks live in pools: one international pool (pool 0) and one local pool per country
 * (pool = index in region_models). A pool releases tracks every day, mostly on Fridays
 * (New Music Friday), at a rate proportional to the chart size. A track is named by its
 * key (pool, release day, ordinal that day) and everything about it - its 22-character
 * base62 id, credits, title, label, popularity curve - is a hash of (seed, key). Nothing
 * depends on the window being generated, so the same seed gives the same track universe
 * for any --days and --end-date.
 *
 * A track's popularity on day d is a curve times noise:
 *   normal (~89%)   rises for `rise` days (0 for most: they debut at their peak, with an
 *                   extra release-week spike), then decays exponentially with a time
 *                   constant of weeks; peak amplitudes are Pareto-distributed, so a few
 *                   tracks are huge hits and most never chart;
 *   long-runner     slow rise, decay over years: the tracks that stay on a chart for years;
 *   sleeper         a normal curve plus a revival months or years later (the TikTok
 *                   comeback): it drops out and re-enters;
 *   seasonal        zero most of the year, rising from late November to a peak on Dec 24/25
 *                   and gone in early January: re-enters every December;
 *   evergreen       catalogue songs with a low, slowly drifting popularity that never ends;
 *                   they fill the bottom of the chart and churn in and out of it (more
 *                   re-entries), and they guarantee every chart can be filled.
 * Popularity is multiplied by smooth noise (random values every 9 days, interpolated, plus
 * a little daily jitter), so ranks move plausibly from day to day.
 *
 * A region's chart draws on a few pools with weights: its own local pool (1.0), the
 * international pool (weight by taste: 1.0 in the US, 0.25 in Japan) with a per-region
 * affinity per track (a hit in Spain may be a flop in Sweden), and its neighbour's local
 * pool (0.25; Mexico's hits chart in Guatemala). The global chart draws on the
 * international pool and the local pools of the big markets. A day's chart is the top
 * chart_size tracks by score; streams are the region's market size times a weekday and
 * yearly-growth factor times (score / reference)^steepness, so rank 1 on global is several
 * million and small markets are both smaller and steeper. Streams are made non-increasing
 * down the chart explicitly, so rounding can never break that.
 *
 * Chart-run columns are exact: each track alive in a region carries its history there
 * (peak, charts so far, last rank and date), updated as charts are written in date order.
 * A weekly chart (Friday..Thursday, dated Thursday, as charts.spotify.com does) ranks the
 * tracks by the sum of their streams on that week's daily charts.
 *
 * Memory and speed: regions are generated one after another; a region holds only the tracks
 * alive in its pools (a track whose curve has ended is dropped with its history, since it
 * can never chart again), so memory does not grow with days or regions. Ranking keeps the
 * top chart_size by partial selection, and each track's CSV text (id, credits, title, label)
 * is built once when it becomes alive, so a row costs a few integer formats.
 *
 * Formats: the model and the ranking do not know the format; only a track's prebuilt text
 * and the writer do. The kaggle writer keeps one file open, the (region, year) being
 * written: regions are generated one after another and days in order, so each file is
 * written start to end and closed before the next is opened, in rows sorted by date and rank.
 *
 * Determinism: integer hashing (splitmix64) for all randomness, and exp/log computed here
 * with IEEE-754 + - * / only (libm's may differ in the last bit between platforms and
 * would change a rounded stream count). Floating-point contraction is off (ISO C mode). */
#include "pipeline/generate.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buf.h"
#include "core/cli.h"
#include "core/date.h"
#include "core/mem.h"
#include "core/series.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define DEFAULT_CHART_SIZE 200
#define MAX_LIFE_DAYS      2500  /* no curve lasts longer; also how far back the warm-up looks */
#define POP_FLOOR          0.015 /* below this a track cannot chart anywhere; its curve ends */
#define NOISE_KNOT_DAYS    9
#define NOISE_STREAM(r)    (1000u + (uint64_t)(r)) /* apart from the SALT_* streams */
#define EVERGREEN_KNOT     60
#define ROW_MAX            8192 /* a row is the track's text plus four integers */
#define TEXT_CAP           4096 /* credits/title/label text of one track, escaped */
#define IO_BUFFER_SIZE     (1 << 18)

/* ------------------------------------------------------------------------------------ */
/* Deterministic randomness and arithmetic                                              */

static uint64_t mix64(uint64_t z)
{
    /* splitmix64's finaliser: a bijection, so distinct keys keep distinct hashes */
    z ^= z >> 30;
    z *= UINT64_C(0xbf58476d1ce4e5b9);
    z ^= z >> 27;
    z *= UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    return z;
}

static uint64_t hash3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = mix64(a + UINT64_C(0x9e3779b97f4a7c15));
    h = mix64(h ^ (b + UINT64_C(0xd1b54a32d192ed03)));
    return mix64(h ^ (c + UINT64_C(0x8cb92ba72f3d8dd7)));
}

/* Salts keep the different uses of one key independent. */
enum {
    SALT_SHAPE = 1,
    SALT_NAMES,
    SALT_ARTIST,
    SALT_RELEASES,
    SALT_NOISE,
    SALT_JITTER,
    SALT_AFFINITY,
    SALT_DRIFT,
    SALT_ID,
    SALT_LABEL,
};

struct rng {
    uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
    r->state += UINT64_C(0x9e3779b97f4a7c15);
    return mix64(r->state);
}

/* Uniform in [0, 1). */
static double unit_of(uint64_t h)
{
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_unit(struct rng *r)
{
    return unit_of(rng_next(r));
}

/* Uniform in (0, 1], safe for log. */
static double rng_unit_open(struct rng *r)
{
    return ((double)(rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

static size_t rng_below(struct rng *r, size_t n)
{
    return (size_t)(rng_unit(r) * (double)n);
}

/* Approximately standard normal from one hash: the sum of four 16-bit uniforms (Irwin-Hall),
 * bounded at +-3.46, which keeps every noise term bounded too. */
static double normal_of(uint64_t h)
{
    double sum = 0;
    for (int i = 0; i < 4; i++)
        sum += ((double)((h >> (16 * i)) & 0xffff) + 0.5) * (1.0 / 65536.0);
    return (sum - 2.0) * 1.7320508075688772;
}

static double rng_normal(struct rng *r)
{
    return normal_of(rng_next(r));
}

#define LN2_HI   6.93147180369123816490e-01
#define LN2_LO   1.90821492927058770002e-10
#define INV_LN2  1.44269504088896338700e+00
#define SQRT_1_2 0.70710678118654752440

/* e^x from + - * / and exact scaling only: the same bits on every IEEE-754 platform. */
static double det_exp(double x)
{
    if (x < -700.0)
        return 0.0;
    if (x > 700.0)
        x = 700.0;
    double k = floor(x * INV_LN2 + 0.5);
    double r = (x - k * LN2_HI) - k * LN2_LO; /* |r| <= 0.35 */
    double p = 1.0 / 6227020800.0;            /* Taylor series to r^13/13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return ldexp(p, (int)k);
}

/* ln x for x > 0, same approach: exact split into mantissa and exponent, atanh series. */
static double det_log(double x)
{
    int e;
    double m = frexp(x, &e);
    if (m < SQRT_1_2) {
        m *= 2.0;
        e--;
    }
    double s = (m - 1.0) / (m + 1.0); /* |s| <= 0.172 */
    double s2 = s * s;
    double p = 1.0 / 21.0;
    p = p * s2 + 1.0 / 19.0;
    p = p * s2 + 1.0 / 17.0;
    p = p * s2 + 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    p = p * s2 + 1.0;
    return (double)e * LN2_HI + ((double)e * LN2_LO + 2.0 * s * p);
}

/* Pareto(min, alpha), capped: heavy-tailed hit sizes. */
static double rng_pareto(struct rng *r, double min, double alpha, double cap)
{
    double v = min * det_exp(-det_log(rng_unit_open(r)) / alpha);
    return v < cap ? v : cap;
}

static double rng_lognormal(struct rng *r, double median, double sigma)
{
    return median * det_exp(sigma * rng_normal(r));
}

static long floor_div(long a, long b)
{
    long q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ------------------------------------------------------------------------------------ */
/* Calendar: days since 1970-01-01 (negative before), proleptic Gregorian                 */

/* 0 = Thursday (1970-01-01 was one), 1 = Friday, ... */
static int weekday_from_thursday(long day)
{
    return (int)(day - floor_div(day, 7) * 7);
}

/* Weeks run Friday..Thursday; week w ends on day 7w. */
static long week_of(long day)
{
    return floor_div(day + 6, 7);
}

/* ------------------------------------------------------------------------------------ */
/* Names: locales, artists, titles, labels                                               */

enum locale {
    L_EN,
    L_ES,
    L_PT,
    L_DE,
    L_FR,
    L_IT,
    L_NORDIC,
    L_NL,
    L_KO,
    L_JA,
    L_TH,
    L_ZH,
    L_AR,
    L_TR,
    L_PL,
    L_RU,
    L_GR,
    L_VI,
    L_ID,
    L_HI,
    LOCALE_COUNT
};

struct word_list {
    const char *const *words;
    size_t count;
};

#define WORDS(...)                                                                                 \
    {                                                                                              \
        (const char *const[]){__VA_ARGS__},                                                        \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)                      \
    }

struct locale_words {
    struct word_list first, last, solo, titles;
    const char *name_sep;   /* between first and last name: " " or "" (Hangul, Chinese) */
    bool family_first;      /* Korean, Japanese, Chinese order */
    const char *label_word; /* "Records", "Música", "Entertainment" ... */
};

static const struct locale_words locales[LOCALE_COUNT] = {
    [L_EN] = {WORDS("Ava", "Mason", "Lily", "Jaden", "Harper", "Theo", "Nova", "Miles", "Ruby",
                    "Caleb", "Ivy", "Declan", "Skye", "Elijah", "Maren", "Rory"),
              WORDS("Hart", "Rivers", "Cole", "Monroe", "Vance", "Sterling", "Blake", "Quinn",
                    "Hayes", "Fox", "Lennon", "Parker", "O'Connell", "Ashby", "Winslow", "Reyes"),
              WORDS("Velvet Static", "Paper Wolves", "The Midnight Owls", "Glasshouse", "KAIRO",
                    "Juniper", "Neon Harbor", "Saint Lowell", "The Backroads", "Kid Comet"),
              WORDS("Midnight", "Heartbreak Weather", "Golden Hour Again", "Summer Ghost", "Fever",
                    "Paradise Lost", "Gravity", "Neon Lights", "Wildfire", "Honey", "Satellite",
                    "Don't Let Go", "Say My Name", "Back to You", "All Night Long", "Better Days",
                    "Call Me Back", "Too Late", "Drive Slow", "Lose Control", "Electric Love",
                    "Stay the Night", "Runaway Train", "Angel Eyes", "Small Town Lights",
                    "Cherry Soda", "I Miss the Old Me", "Ocean Eyes Again"),
              " ", false, "Records"},
    [L_ES] = {WORDS("Valentina", "Mateo", "Camila", "Santiago", "Lucía", "Joaquín", "Sofía",
                    "Andrés", "Ximena", "Nicolás", "Renata", "Íker"),
              WORDS("García", "Muñoz", "Peña", "Ríos", "Ibáñez", "Castaño", "Fuentes", "Beltrán",
                    "Ordóñez", "Montaña", "Cortés", "Zúñiga"),
              WORDS("Los Hermanos Ríos", "Grupo Frontera Sur", "La Sonora Nueva", "Niño Salvaje",
                    "El Güero", "Banda La Montaña", "Corazón Serrano", "Los del Río Bravo"),
              WORDS("Corazón", "Noche Eterna", "Bailando Sola", "Te Extraño", "Mi Niña",
                    "Fuego Lento", "Olvídame", "Qué Pasó", "Canción de Amor", "Mañana", "Pa' Ti",
                    "La Última Vez", "Perreo Intenso", "Besos en la Playa", "Sin Ti", "Tú y Yo",
                    "Ojalá", "Me Porto Bonito Hoy", "Despacito No", "Otra Noche"),
              " ", false, "Música"},
    [L_PT] = {WORDS("João", "Luísa", "Gabriel", "Beatriz", "Thiago", "Mariana", "Caio", "Larissa",
                    "Ana", "Vitória", "Zé", "Maiara"),
              WORDS("Araújo", "Gonçalves", "Simões", "Conceição", "Brandão", "Lima", "Nogueira",
                    "Assunção", "Falcão", "Rebouças"),
              WORDS("MC Pipoca", "Henrique & Juliano Neto", "Os Barões", "Bonde do Sertão",
                    "Turma da Praia", "Dupla Coração"),
              WORDS("Saudade", "Coração Partido", "Não Vou Chorar", "Paixão", "Menina Linda",
                    "Vai Embora", "Amor de Verão", "Só Você", "Ciúmes", "Pé na Areia",
                    "Bebi Demais", "Sonhos", "Lágrimas", "Põe Pra Tocar"),
              " ", false, "Produções"},
    [L_DE] = {WORDS("Jonas", "Lea", "Lukas", "Mia", "Felix", "Hannah", "Moritz", "Jana", "Finn",
                    "Sophie"),
              WORDS("Müller", "Schäfer", "Groß", "Weiß", "Köhler", "Brückner", "Hoffmann", "Krüger",
                    "Fuchs", "Möller"),
              WORDS("Die Großstadtkinder", "Straßenjungs", "Nachtfalter", "Blaue Stunde",
                    "Kölsche Jungs"),
              WORDS("Nachtschwärmer", "Für Immer", "Großstadtliebe", "Herzschlag", "Mädchen",
                    "Über den Wolken", "Schöner Tag", "Zurück zu Dir", "Sommerregen", "Glück",
                    "Bis Morgen", "Straßenlicht"),
              " ", false, "Musik"},
    [L_FR] = {WORDS("Léa", "Théo", "Chloé", "Noé", "Inès", "Rayane", "Anaïs", "Hugo", "Zoé",
                    "Maëlle"),
              WORDS("Lefèvre", "Moreau", "Girard", "Fournier", "Dupré", "Leclerc", "Mercier",
                    "Rousseau", "Garnier", "Faure"),
              WORDS("Les Étoiles", "Bérénice", "Rêve Électrique", "Céleste", "Gaël"),
              WORDS("Mon Cœur", "Là-bas", "Éternité", "Je T'aime Encore", "Déjà Vu", "Nuit Blanche",
                    "Où Es-Tu", "Mélodie", "La Vie en Rêve", "Ça Ira", "Rêverie", "Sans Toi"),
              " ", false, "Musique"},
    [L_IT] = {WORDS("Giulia", "Lorenzo", "Chiara", "Matteo", "Aurora", "Niccolò", "Francesca",
                    "Tommaso"),
              WORDS("Rossi", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
                    "Galli"),
              WORDS("I Ragazzi del Porto", "Sfera Blu", "Lucciola", "Maneskina"),
              WORDS("Più Forte", "Città di Notte", "Perché", "Amore Mio", "Così Così", "Estate",
                    "Cuore Nero", "Mille Volte", "Tramonto", "Felicità"),
              " ", false, "Dischi"},
    [L_NORDIC] = {WORDS("Søren", "Åsa", "Björn", "Freja", "Øystein", "Linnéa", "Oskar", "Saga",
                        "Jørgen", "Ebba"),
                  WORDS("Lindqvist", "Bergström", "Sørensen", "Håkansson", "Ødegaard", "Ström",
                        "Nyström", "Dahl", "Solberg", "Ekström"),
                  WORDS("Fjällräv", "Nordlys", "Älvorna", "Kråkene", "Blå Timme"),
                  WORDS("Sommarnatt", "Hjärtat", "Kjærlighet", "Ensom", "Stjärnor", "Vinterlys",
                        "Förlåt", "Drømmer", "Midsommar", "Älskar Dig"),
                  " ", false, "Musik"},
    [L_NL] = {WORDS("Daan", "Sanne", "Bram", "Fleur", "Sem", "Noor", "Luuk", "Tess"),
              WORDS("de Vries", "van Dijk", "Bakker", "Jansen", "Visser", "de Jong", "van den Berg",
                    "Smit"),
              WORDS("De Kraaien", "Zuiderwind", "Lijn 12"),
              WORDS("Zomeravond", "Mijn Hart", "Laat Me", "Altijd", "Dansen in de Regen",
                    "Ik Mis Je", "Oranje Zon", "Nooit Meer"),
              " ", false, "Records"},
    [L_KO] = {WORDS("지우", "서준", "하윤", "도윤", "민서", "예준", "수아", "은하"),
              WORDS("김", "이", "박", "최", "정", "강", "윤"),
              WORDS("별빛소년단", "하늘", "태양", "NOVA9", "AURORA X", "BLUE MOON", "STARLIGHT",
                    "SEVEN DAYS", "바다", "ILLUSION"),
              WORDS("사랑해", "밤하늘", "너에게", "봄날의 기억", "첫눈", "안녕", "꿈속에서",
                    "우리의 여름", "Love Me Right", "Butterfly Effect", "Fever Dream",
                    "Hype Boy Again", "Super Shy Girl"),
              "", true, "Entertainment"},
    [L_JA] = {WORDS("陽菜", "蓮", "結衣", "湊", "ハルカ", "ソウタ"),
              WORDS("佐藤", "高橋", "水野", "山本", "中村", "小林"),
              WORDS("アオイロ", "ミドリノ", "ハナビ", "ツキミ", "ソラノネ", "夜明けのビート",
                    "YOASOBI Night"),
              WORDS("春の歌", "夏の終わり", "さよならの向こう", "星空", "きみの名前", "青い月",
                    "未来へ", "花火", "ひまわり", "Tokyo Drive", "ラブレター"),
              " ", true, "Records"},
    [L_TH] = {WORDS("ภูมิ", "ปราง", "ต้น", "มายด์", "ฟ้า", "ไอซ์"),
              WORDS("ใจดี", "สุขสันต์", "ศรีสวัสดิ์", "ทองดี"),
              WORDS("ลมหนาว", "ดาวเหนือ", "ทะเลสีคราม", "ยิ้ม Smile", "Bangkok Boys"),
              WORDS("คิดถึง", "รักเธอ", "ฝนตก", "ใจร้าย", "ขอบคุณ", "เพียงเธอ", "ดวงดาว", "อยู่ตรงนี้"), " ",
              false, "Music"},
    [L_ZH] = {WORDS("子軒", "怡君", "家豪", "詩涵", "宇翔", "雅婷"),
              WORDS("周", "林", "陳", "王", "張", "黃"),
              WORDS("五月天空", "告五人行", "Sodagreen Jr.", "滅火器樂團"),
              WORDS("想你", "晴天的約定", "月亮", "再見", "我們的歌", "星期五", "不說", "後來的我",
                    "Taipei Love"),
              "", true, "Music"},
    [L_AR] = {WORDS("عمرو", "نور", "ليلى", "محمد", "هيفاء", "راشد", "Amr", "Nour"),
              WORDS("الحسن", "منصور", "العلي", "سعيد", "Mansour", "El Sayed"),
              WORDS("Wegz Jr.", "فرقة النيل", "Marwan Pablo Jr.", "حمّود"),
              WORDS("حبيبي", "يا ليل", "قلبي", "سهران", "بحبك", "ليالي", "Habibi Dance", "Ya Amar"),
              " ", false, "Music"},
    [L_TR] = {WORDS("Aylin", "Emre", "Zeynep", "Barış", "Elif", "Çağan", "Deniz", "Gökçe"),
              WORDS("Yıldız", "Şahin", "Öztürk", "Çelik", "Aydın", "Güneş"),
              WORDS("Mavi Gece", "Kuzey Rüzgârı", "Şehrin Çocukları"),
              WORDS("Aşkın Olayım", "Gel", "Yalnızlık", "Sevdim Seni", "Gökyüzü", "İçimde",
                    "Ölürüm Sana", "Dönmeyeceğim"),
              " ", false, "Müzik"},
    [L_PL] = {WORDS("Zofia", "Jakub", "Oliwia", "Szymon", "Tereza", "Matěj", "Ioana", "Bence",
                    "Rūta", "Kārlis"),
              WORDS("Kowalska", "Wiśniewski", "Dvořák", "Novák", "Łukasik", "Popescu", "Szabó",
                    "Kazlauskas", "Bērziņš"),
              WORDS("Żywiołak", "Kapela Ćma", "Hudba Noci", "Dinamo Bucureşti Band"),
              WORDS("Miłość", "Noc", "Żyję", "Srdce", "Láska", "Dziewczyna", "Taniec", "Szerelem",
                    "Dragoste", "Gwiazdy"),
              " ", false, "Records"},
    [L_RU] = {WORDS("Алина", "Максим", "Даша", "Егор", "Полина", "Тимур"),
              WORDS("Соколов", "Морозова", "Кузнецов", "Лебедева", "Шевченко"),
              WORDS("Звери Ночи", "Кино Нового Дня", "Мальчики", "Elbrus Crew"),
              WORDS("Звёзды", "Ночь", "Я тебя люблю", "Кино", "Лето", "Танцуй", "Скучаю",
                    "Москва не спит"),
              " ", false, "Music"},
    [L_GR] = {WORDS("Γιώργος", "Ελένη", "Νίκος", "Μαρία", "Κώστας"),
              WORDS("Παπαδόπουλος", "Νικολάου", "Γεωργίου", "Οικονόμου"),
              WORDS("Οι Ναυτικοί", "Light Athens", "Σπύρος Κ."),
              WORDS("Αγάπη", "Νύχτα", "Καλοκαίρι", "Σ' αγαπώ", "Θάλασσα", "Μόνος"), " ", false,
              "Music"},
    [L_VI] = {WORDS("Minh", "Thảo", "Tùng", "Hương", "Đạt", "Ngọc"),
              WORDS("Nguyễn", "Trần", "Lê", "Phạm", "Vũ", "Đặng"),
              WORDS("Sơn Hà", "Đen Trắng", "Chillies Jr."),
              WORDS("Chạy Về Phía Em", "Mưa Tháng Sáu", "Hẹn Yêu", "Người Lạ Ơi", "Đừng Đi",
                    "Ánh Trăng"),
              " ", true, "Entertainment"},
    [L_ID] = {WORDS("Rizky", "Putri", "Dimas", "Ayu", "Bayu", "Sari", "Juan", "Maria"),
              WORDS("Pratama", "Wijaya", "Santoso", "Lestari", "dela Cruz", "Reyes"),
              WORDS("Nadin Jr.", "SB20", "Kangen Band Baru", "Juicy Lucy"),
              WORDS("Cinta Sejati", "Rindu", "Sampai Jumpa", "Kekasih", "Hati Yang Luka",
                    "Mahal Kita", "Ikaw Lang", "Sa'yo"),
              " ", false, "Records"},
    [L_HI] = {WORDS("Aarav", "Priya", "Rohan", "Ananya", "Kabir", "Meera", "Vikram", "Zara"),
              WORDS("Sharma", "Kapoor", "Mehta", "Iyer", "Malik", "Khan"),
              WORDS("DJ Chetas Jr.", "दिलवाले", "Punjabi Munde", "Lahore Lights"),
              WORDS("Dil Ki Baat", "Ishq Wala Safar", "Chaandni Raat", "Mera Yaar", "Pyaar Hua",
                    "Saiyaan", "Dhadkan", "Barsaat", "Raat Baaki", "इश्क़"),
              " ", false, "Music"},
};

/* The international pool's best-known names, including the awkward ones: a comma inside a
 * name (the chart file's comma-joined credit line is then ambiguous, as in real files),
 * quotes, and non-Latin scripts. */
static const char *const curated_artists[] = {"Tyler, The Creator",
                                              "Zoë Ashby",
                                              "Bad Conejo",
                                              "Søren Lykke",
                                              "ROSÉLYN",
                                              "Luna Beltrán",
                                              "Earth, Sea & Sky",
                                              "The Weekdays",
                                              "Sabrina \"Sabi\" Cole",
                                              "별빛소년단",
                                              "Chloé Moreau",
                                              "Niño Estrella",
                                              "夜明けのビート",
                                              "Crosby, Hale & Wilde",
                                              "Dua Ferrer",
                                              "ลมหนาว",
                                              "Mëgan Stråle",
                                              "Lil Nova",
                                              "DJ Ørbit",
                                              "Aylin Yıldız",
                                              "Nguyễn Minh",
                                              "KAROL J",
                                              "Billie Aylish",
                                              "Post Malloy",
                                              "Olivia Rodrigo-Reyes",
                                              "Bruno Marz",
                                              "Kendrik Lemar",
                                              "Feid Ángel",
                                              "Tate McRay",
                                              "Ed Sheerin"};

static const char *const intl_labels[] = {"Northlight Records",
                                          "Atlas Music Group",
                                          "Velvet Hour/Monarch Records",
                                          "Parade Records",
                                          "Orbit Sound",
                                          "Blue Garden Music",
                                          "Smith, Lowe & Partners",
                                          "Glasshouse Recordings",
                                          "Sello \"Rayo\" Music",
                                          "Darkroom/Meridian Records",
                                          "Independent",
                                          "XO/Republic of Sound"};

static const char *const holiday_titles[] = {
    "Snow on the Rooftops",    "Christmas in the City",  "All I Want Is Snow",
    "Last December",           "Navidad Contigo",        "Feliz Natal, Amor",
    "Stille Nacht, Neue Welt", "Jingle All Night",       "Santa's Coming Home",
    "Mistletoe Mornings",      "It's Beginning to Snow", "Winter Wonder",
    "Underneath the Lights",   "Rockin' Round the Fire", "Un Noël à Paris",
    "크리스마스엔 너와"};

static const char *const version_suffixes[] = {
    " - Remix", " - Sped Up", " - Live", " - Acoustic", " (Deluxe Version)", " - Slowed + Reverb"};

/* ------------------------------------------------------------------------------------ */
/* Regions                                                                               */

struct region_model {
    const char *code;
    double top_streams; /* a typical rank-1 day */
    double steepness;   /* exponent on relative score: small markets fall off faster */
    enum locale locale;
    const char *neighbour; /* whose local hits also chart here, or NULL */
    double intl_weight;    /* taste for the international pool */
};

/* global first, then in rough order of Spotify market size, so --regions N picks the N
 * biggest. Codes are those of core.region. */
static const struct region_model region_models[] = {
    {"global", 6.0e6, 0.55, L_EN, NULL, 1.0}, {"us", 2.0e6, 0.70, L_EN, "gb", 1.0},
    {"gb", 5.5e5, 0.70, L_EN, "us", 1.0},     {"de", 5.0e5, 0.70, L_DE, NULL, 0.8},
    {"br", 9.0e5, 0.70, L_PT, NULL, 0.45},    {"mx", 8.5e5, 0.70, L_ES, "co", 0.7},
    {"fr", 3.5e5, 0.72, L_FR, NULL, 0.7},     {"es", 4.0e5, 0.72, L_ES, "mx", 0.7},
    {"it", 3.5e5, 0.72, L_IT, NULL, 0.6},     {"ca", 2.6e5, 0.72, L_EN, "us", 1.0},
    {"au", 2.4e5, 0.72, L_EN, "us", 1.0},     {"nl", 1.6e5, 0.74, L_NL, "de", 0.9},
    {"se", 1.3e5, 0.74, L_NORDIC, NULL, 0.9}, {"jp", 2.5e5, 0.72, L_JA, NULL, 0.25},
    {"pl", 1.6e5, 0.74, L_PL, NULL, 0.7},     {"ar", 3.5e5, 0.72, L_ES, "mx", 0.7},
    {"id", 3.5e5, 0.72, L_ID, NULL, 0.6},     {"ph", 3.0e5, 0.72, L_ID, "us", 0.8},
    {"in", 4.0e5, 0.72, L_HI, NULL, 0.35},    {"kr", 1.2e5, 0.74, L_KO, NULL, 0.35},
    {"tr", 2.0e5, 0.74, L_TR, NULL, 0.45},    {"cl", 2.5e5, 0.74, L_ES, "mx", 0.7},
    {"co", 2.5e5, 0.74, L_ES, "mx", 0.7},     {"no", 7.0e4, 0.76, L_NORDIC, "se", 0.9},
    {"dk", 6.0e4, 0.76, L_NORDIC, "se", 0.9}, {"fi", 6.0e4, 0.76, L_NORDIC, "se", 0.8},
    {"be", 6.0e4, 0.76, L_NL, "fr", 0.9},     {"at", 5.0e4, 0.76, L_DE, "de", 0.8},
    {"ch", 5.0e4, 0.76, L_DE, "de", 0.8},     {"pe", 2.0e5, 0.74, L_ES, "mx", 0.7},
    {"ie", 4.0e4, 0.76, L_EN, "gb", 1.0},     {"nz", 3.0e4, 0.78, L_EN, "au", 1.0},
    {"pt", 6.0e4, 0.76, L_PT, "br", 0.7},     {"th", 1.2e5, 0.74, L_TH, NULL, 0.4},
    {"tw", 8.0e4, 0.76, L_ZH, NULL, 0.6},     {"my", 1.0e5, 0.76, L_ID, "id", 0.7},
    {"vn", 1.2e5, 0.76, L_VI, NULL, 0.4},     {"sg", 4.0e4, 0.78, L_EN, "us", 0.9},
    {"za", 4.0e4, 0.78, L_EN, "us", 0.8},     {"ng", 5.0e4, 0.78, L_EN, NULL, 0.5},
    {"eg", 6.0e4, 0.78, L_AR, NULL, 0.5},     {"sa", 8.0e4, 0.78, L_AR, "eg", 0.6},
    {"ae", 3.0e4, 0.78, L_AR, "eg", 0.8},     {"ma", 5.0e4, 0.78, L_AR, "eg", 0.6},
    {"il", 3.0e4, 0.80, L_EN, "us", 0.8},     {"ro", 4.0e4, 0.80, L_PL, "pl", 0.7},
    {"hu", 3.0e4, 0.80, L_PL, "pl", 0.7},     {"cz", 4.0e4, 0.80, L_PL, "pl", 0.7},
    {"gr", 3.0e4, 0.80, L_GR, NULL, 0.6},     {"ua", 4.0e4, 0.80, L_RU, "ru", 0.6},
    {"ru", 8.0e4, 0.78, L_RU, NULL, 0.5},     {"kz", 4.0e4, 0.80, L_RU, "ru", 0.5},
    {"by", 2.0e4, 0.82, L_RU, "ru", 0.5},     {"ec", 8.0e4, 0.78, L_ES, "co", 0.7},
    {"gt", 6.0e4, 0.78, L_ES, "mx", 0.7},     {"do", 5.0e4, 0.80, L_ES, "co", 0.7},
    {"bo", 3.0e4, 0.80, L_ES, "ar", 0.7},     {"py", 3.0e4, 0.80, L_ES, "ar", 0.7},
    {"uy", 2.5e4, 0.80, L_ES, "ar", 0.7},     {"cr", 3.0e4, 0.80, L_ES, "mx", 0.7},
    {"pa", 2.0e4, 0.82, L_ES, "co", 0.7},     {"hn", 2.0e4, 0.82, L_ES, "mx", 0.7},
    {"sv", 2.0e4, 0.82, L_ES, "mx", 0.7},     {"ni", 1.2e4, 0.82, L_ES, "mx", 0.7},
    {"ve", 2.0e4, 0.82, L_ES, "co", 0.7},     {"hk", 2.0e4, 0.82, L_ZH, "tw", 0.6},
    {"pk", 4.0e4, 0.80, L_HI, "in", 0.3},     {"bg", 1.5e4, 0.82, L_RU, "ro", 0.6},
    {"sk", 1.5e4, 0.82, L_PL, "cz", 0.7},     {"lt", 1.2e4, 0.82, L_PL, "pl", 0.7},
    {"lv", 1.0e4, 0.82, L_PL, "lt", 0.7},     {"ee", 8.0e3, 0.84, L_NORDIC, "fi", 0.8},
    {"is", 5.0e3, 0.84, L_NORDIC, "se", 0.8}, {"lu", 4.0e3, 0.84, L_FR, "fr", 0.9},
    {"cy", 4.0e3, 0.84, L_GR, "gr", 0.8},
};

_Static_assert(ARRAY_LEN(region_models) == CP_GENERATE_MAX_REGIONS, "one model per region");

/* Local scenes whose hits reach the global chart, with their weight there. */
static const struct {
    const char *code;
    double weight;
} global_mix[] = {{"us", 0.30}, {"br", 0.16}, {"mx", 0.16}, {"de", 0.10}, {"gb", 0.10},
                  {"fr", 0.07}, {"es", 0.07}, {"it", 0.05}, {"kr", 0.08}, {"jp", 0.05},
                  {"in", 0.08}, {"tr", 0.05}, {"id", 0.05}, {"ph", 0.05}};

static int region_index(const char *code)
{
    for (size_t i = 0; i < ARRAY_LEN(region_models); i++)
        if (strcmp(region_models[i].code, code) == 0)
            return (int)i;
    return -1;
}

/* ------------------------------------------------------------------------------------ */
/* Tracks                                                                                */

#define POOL_INTL       0
#define KEY_DAY_OFFSET  (1L << 23)
#define KEY_EVERGREEN   0   /* day field of catalogue songs */
#define KEY_SEASONAL    1   /* day field of holiday songs */
#define INTL_RELEASES   3.0 /* per day at chart size 200 */
#define LOCAL_RELEASES  2.5
#define INTL_ROSTER     500
#define LOCAL_ROSTER    200
#define INTL_SEASONALS  12
#define LOCAL_SEASONALS 3

enum track_kind { KIND_NORMAL, KIND_LONG, KIND_SLEEPER, KIND_SEASONAL, KIND_EVERGREEN };

/* A track alive in the region being generated: its curve, its affinity to the region, its
 * CSV text, and its chart history in this region. */
struct track {
    uint64_t key;
    enum track_kind kind;
    long release, end; /* days; the track can score only on release..end */
    double log_amp, rise, tau, spike;
    double revive, revive_amp, revive_rise, revive_tau; /* sleepers: days after release */
    double log_affinity; /* ln(pool weight in this region x this track's affinity here) */
    /* The row's constant text (owned). spotify: ,"spotify:track:ID","artists","title",
     * "label",  kaggle: title,|,artists,https://open.spotify.com/track/ID,  where | is
     * text_split, the place of rank and date. */
    char *text;
    size_t text_len, text_split;
    int peak, charts, last_rank; /* daily history here */
    long last_day;
    int week_peak, weeks, week_last_rank; /* weekly history here */
    long week_last;
    long long week_streams; /* on this week's daily charts */
    long week_stamp;
};

struct gen {
    uint64_t seed;
    uint64_t noise_seed;
    int chart_size;
    double release_scale;
    enum cp_generate_format format;
};

static uint64_t track_key(int pool, long day_field, uint32_t ord)
{
    return ((uint64_t)pool << 56) | ((uint64_t)day_field << 32) | ord;
}

static int key_pool(uint64_t key)
{
    return (int)(key >> 56);
}

static long releases_on(const struct gen *g, int pool, long day)
{
    double rate = (pool == POOL_INTL ? INTL_RELEASES : LOCAL_RELEASES) * g->release_scale;
    /* Most music comes out on Fridays: 4/7 of the week's releases that day. */
    rate *= weekday_from_thursday(day) == 1 ? 4.0 : 0.5;
    double whole = floor(rate);
    uint64_t h =
        hash3(g->seed, ((uint64_t)pool << 32) | (uint64_t)(day + KEY_DAY_OFFSET), SALT_RELEASES);
    return (long)whole + (unit_of(h) < rate - whole ? 1 : 0);
}

/* Fills the popularity curve of a released track (normal, long-runner or sleeper). */
static void shape_release(const struct gen *g, uint64_t key, long release, struct track *t)
{
    struct rng r = {hash3(g->seed, key, SALT_SHAPE)};
    double u = rng_unit(&r);
    double amp;
    t->kind = u < 0.06 ? KIND_LONG : u < 0.11 ? KIND_SLEEPER : KIND_NORMAL;
    t->release = release;
    t->spike = 0;
    if (t->kind == KIND_LONG) {
        t->rise = 5 + 100 * rng_unit(&r);
        t->tau = rng_lognormal(&r, 300, 0.6);
        amp = rng_pareto(&r, 0.06, 1.4, 1.5);
    } else {
        double v = rng_unit(&r);
        t->rise = v < 0.55 ? 0 : v < 0.85 ? 1 + 13 * rng_unit(&r) : 15 + 55 * rng_unit(&r);
        t->tau = rng_lognormal(&r, 28, 0.75);
        t->tau = t->tau < 4 ? 4 : t->tau > 400 ? 400 : t->tau;
        amp = rng_pareto(&r, 0.04, 1.2, 2.0);
        if (t->rise == 0)
            t->spike = 0.2 + 1.2 * rng_unit(&r);
    }
    t->log_amp = det_log(amp);
    /* the decay reaches the floor at rise + tau * ln(amp (1 + spike) / floor) */
    double life = t->rise;
    double peak = amp * (1 + t->spike);
    if (peak > POP_FLOOR)
        life += t->tau * det_log(peak / POP_FLOOR);
    t->revive = t->revive_amp = t->revive_rise = t->revive_tau = 0;
    if (t->kind == KIND_SLEEPER) {
        t->revive = life * 0.5 + 60 + 600 * rng_unit(&r);
        t->revive_amp = rng_pareto(&r, 0.1, 1.3, 2.5);
        t->revive_rise = 5 + 25 * rng_unit(&r);
        t->revive_tau = rng_lognormal(&r, 35, 0.5);
        double revive_life = t->revive + t->revive_tau * det_log(t->revive_amp / POP_FLOOR);
        if (revive_life > life)
            life = revive_life;
    }
    if (life > MAX_LIFE_DAYS)
        life = MAX_LIFE_DAYS;
    t->end = release + (long)ceil(life);
}

static void shape_catalogue(const struct gen *g, uint64_t key, enum track_kind kind,
                            struct track *t)
{
    struct rng r = {hash3(g->seed, key, SALT_SHAPE)};
    t->kind = kind;
    t->release = LONG_MIN;
    t->end = LONG_MAX;
    t->rise = t->tau = t->spike = 0;
    t->revive = t->revive_amp = t->revive_rise = t->revive_tau = 0;
    double amp;
    if (kind == KIND_SEASONAL) {
        /* ordinal 0 of each pool is its "All I Want for Christmas": a December #1 */
        uint32_t ord = (uint32_t)(key & 0xffffffffu);
        amp = ord == 0 ? 2.5 + 2.0 * rng_unit(&r) : rng_pareto(&r, 0.08, 1.0, 2.0);
    } else {
        double u = rng_unit(&r);
        /* a few catalogue classics sit mid-chart for years; the rest hover at the bottom */
        amp = u < 0.08 ? 0.06 * det_exp(1.6 * rng_unit(&r)) : 0.008 * det_exp(2.0 * rng_unit(&r));
    }
    t->log_amp = det_log(amp);
}

/* Interpolated noise: a random value every `knot` days, linear in between, so popularity
 * drifts instead of jumping. */
static double smooth_noise(uint64_t base, uint64_t stream, long day, long knot)
{
    long k = floor_div(day, knot);
    double frac = (double)(day - k * knot) / (double)knot;
    double z0 = normal_of(hash3(base, stream, (uint64_t)k));
    double z1 = normal_of(hash3(base, stream, (uint64_t)(k + 1)));
    return z0 + (z1 - z0) * frac;
}

/* Holiday factor of a day: ramps from late November to Christmas, gone by early January.
 * Returns 0 outside the season. */
static double season_factor(long day)
{
    int y, m, d;
    cp_date_from_days(day, &y, &m, &d);
    long christmas;
    if (m >= 11)
        christmas = cp_date_to_days(y, 12, 25);
    else if (m == 1 && d <= 10)
        christmas = cp_date_to_days(y - 1, 12, 25);
    else
        return 0;
    long t = day - christmas;
    if (t < -36 || t > 8)
        return 0;
    if (t < 0) {
        double x = (double)(t + 37) / 37.0;
        return x * x * x;
    }
    if (t == 0)
        return 1.0;
    if (t == 1)
        return 0.4;
    return 0.25 * det_exp(-0.35 * (double)(t - 2));
}

/* Sets *out to ln(popularity) of t on day; false when t cannot chart that day (not
 * released, curve over, out of season, below the floor). */
static bool track_log_pop(const struct gen *g, const struct track *t, long day, double log_season,
                          bool in_season, double *out)
{
    switch (t->kind) {
    case KIND_EVERGREEN:
        *out = t->log_amp +
               0.35 * smooth_noise(g->noise_seed ^ t->key, SALT_DRIFT, day, EVERGREEN_KNOT);
        return true;
    case KIND_SEASONAL:
        if (!in_season)
            return false;
        *out = t->log_amp + log_season;
        return true;
    default:
        break;
    }
    if (day < t->release || day > t->end)
        return false;
    double x = (double)(day - t->release);
    double lp;
    if (x < t->rise) {
        double f = (x + 1) / (t->rise + 1);
        lp = t->log_amp + 2.0 * det_log(f);
    } else {
        double y = x - t->rise;
        lp = t->log_amp - y / t->tau;
        if (t->spike > 0 && y < 30)
            lp += det_log(1 + t->spike * det_exp(-y / 2.5));
    }
    if (t->kind == KIND_SLEEPER && x > t->revive - 4 * t->revive_rise) {
        double z = x - t->revive;
        double bump = z < 0 ? det_exp(-(z * z) / (t->revive_rise * t->revive_rise))
                            : det_exp(-z / t->revive_tau);
        lp = det_log(det_exp(lp) + t->revive_amp * bump);
    }
    if (lp < -4.1997) /* ln POP_FLOOR */
        return false;
    *out = lp;
    return true;
}

/* 22 base62 characters from 128 bits, as Spotify's ids are: the first 64 bits are a
 * bijection of the key, so distinct tracks never share an id. */
static void track_id(const struct gen *g, uint64_t key, char out[23])
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    uint64_t hi = mix64(key ^ mix64(g->seed + SALT_ID));
    uint64_t lo = hash3(g->seed, key, SALT_ID);
    uint32_t limb[4] = {(uint32_t)(hi >> 32), (uint32_t)hi, (uint32_t)(lo >> 32), (uint32_t)lo};
    for (int pos = 21; pos >= 0; pos--) {
        uint64_t rem = 0;
        for (int i = 0; i < 4; i++) {
            uint64_t cur = (rem << 32) | limb[i];
            limb[i] = (uint32_t)(cur / 62);
            rem = cur % 62;
        }
        out[pos] = digits[rem];
    }
    out[22] = '\0';
}

static const char *pick(struct rng *r, const struct word_list *list)
{
    return list->words[rng_below(r, list->count)];
}

static enum locale pool_locale(int pool)
{
    return pool == POOL_INTL ? L_EN : region_models[pool].locale;
}

/* An artist's locale: mostly the pool's; the international pool is mostly English with
 * Latin, K-pop, Brazilian, French and Japanese acts. */
static enum locale artist_locale(struct rng *r, int pool)
{
    double u = rng_unit(r);
    if (pool != POOL_INTL)
        return u < 0.9 ? pool_locale(pool) : L_EN;
    return u < 0.68   ? L_EN
           : u < 0.84 ? L_ES
           : u < 0.90 ? L_KO
           : u < 0.94 ? L_PT
           : u < 0.97 ? L_FR
                      : L_JA;
}

static cp_status append_artist_name(const struct gen *g, int pool, size_t idx, struct cp_buf *b,
                                    enum locale *locale_out)
{
    struct rng r = {hash3(g->seed, ((uint64_t)pool << 32) | idx, SALT_ARTIST)};
    enum locale loc = artist_locale(&r, pool);
    if (locale_out)
        *locale_out = loc;
    if (pool == POOL_INTL && idx < ARRAY_LEN(curated_artists))
        return cp_buf_adds(b, curated_artists[idx]);
    const struct locale_words *w = &locales[loc];
    /* Every draw is its own statement: the order of evaluation of function arguments is
     * unspecified, and compilers do differ, which would change the names. */
    double u = rng_unit(&r);
    const char *first = pick(&r, &w->first);
    if (u < 0.5) {
        const char *last = pick(&r, &w->last);
        return cp_buf_addf(b, "%s%s%s", w->family_first ? last : first, w->name_sep,
                           w->family_first ? first : last);
    }
    if (u < 0.72)
        return cp_buf_adds(b, pick(&r, &w->solo));
    if (u < 0.9) {
        static const char *const prefixes[] = {"Lil ", "Young ", "DJ ", "MC ", "Big ", "King "};
        return cp_buf_addf(b, "%s%s", prefixes[rng_below(&r, ARRAY_LEN(prefixes))], first);
    }
    const char *second = pick(&r, &w->first);
    return cp_buf_addf(b, "%s & %s", first, second);
}

/* Appends s with every '"' doubled, as the chart files escape quotes. */
static cp_status append_escaped(struct cp_buf *b, const char *s, size_t len)
{
    cp_status st = CP_OK;
    size_t run = 0;
    for (size_t i = 0; i < len && st == CP_OK; i++)
        if (s[i] == '"') {
            st = cp_buf_add(b, s + run, i + 1 - run);
            run = i;
        }
    return st == CP_OK ? cp_buf_add(b, s + run, len - run) : st;
}

/* Appends a field as RFC 4180 writers (pandas among them) do: bare unless it holds a comma,
 * a quote or a line break, else quoted with quotes doubled. */
static cp_status append_csv_field(struct cp_buf *b, const char *s, size_t len)
{
    bool needs_quotes = false;
    for (size_t i = 0; i < len && !needs_quotes; i++)
        needs_quotes = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!needs_quotes)
        return cp_buf_add(b, s, len);
    cp_status st = cp_buf_adds(b, "\"");
    if (st == CP_OK)
        st = append_escaped(b, s, len);
    return st == CP_OK ? cp_buf_adds(b, "\"") : st;
}

/* Builds t->text: the row's constant parts, escaped and quoted as the format wants. */
static cp_status build_track_text(const struct gen *g, struct track *t)
{
    int pool = key_pool(t->key);
    struct rng r = {hash3(g->seed, t->key, SALT_NAMES)};
    struct cp_buf artists, title, row;
    cp_buf_init(&artists, TEXT_CAP);
    cp_buf_init(&title, TEXT_CAP);
    cp_buf_init(&row, TEXT_CAP);

    /* Credits: the lead from a skewed draw (popular artists release more), then featured
     * artists, sometimes from another pool (cross-over collaborations). */
    double u = rng_unit(&r);
    int n_artists = u < 0.72 ? 1 : u < 0.92 ? 2 : u < 0.98 ? 3 : 4;
    size_t chosen[4];
    int chosen_pool[4];
    size_t name_start[4], name_end[4];
    enum locale lead_locale = L_EN;
    cp_status st = CP_OK;
    for (int i = 0; i < n_artists && st == CP_OK; i++) {
        double v = rng_unit(&r);
        int p = pool;
        if (i > 0 && rng_unit(&r) < 0.2)
            p = pool == POOL_INTL ? 1 + (int)rng_below(&r, ARRAY_LEN(region_models) - 1)
                                  : POOL_INTL;
        size_t idx = (size_t)(v * v * (double)(p == POOL_INTL ? INTL_ROSTER : LOCAL_ROSTER));
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup = dup || (chosen[j] == idx && chosen_pool[j] == p);
        if (dup) {
            n_artists = i;
            break;
        }
        chosen[i] = idx;
        chosen_pool[i] = p;
        if (i > 0)
            st = cp_buf_adds(&artists, ", ");
        name_start[i] = artists.len;
        if (st == CP_OK)
            st = append_artist_name(g, p, idx, &artists, i == 0 ? &lead_locale : NULL);
        name_end[i] = artists.len;
        /* two roster entries can share a generated name; credit it once */
        for (int j = 0; j < i && st == CP_OK; j++)
            if (name_end[j] - name_start[j] == name_end[i] - name_start[i] &&
                memcmp(artists.data + name_start[j], artists.data + name_start[i],
                       name_end[i] - name_start[i]) == 0) {
                artists.len = name_start[i] - 2;
                artists.data[artists.len] = '\0';
                n_artists = i;
                break;
            }
    }

    /* Title in the lead artist's language, with the decorations real charts have. */
    const struct locale_words *w = &locales[lead_locale];
    if (st == CP_OK) {
        if (t->kind == KIND_SEASONAL)
            st = cp_buf_adds(&title, holiday_titles[rng_below(&r, ARRAY_LEN(holiday_titles))]);
        else {
            double v = rng_unit(&r);
            const char *main_title = pick(&r, &w->titles);
            if (v < 0.05)
                st = cp_buf_addf(&title, "%s, %s", main_title, pick(&r, &w->titles));
            else if (v < 0.07)
                st = cp_buf_addf(&title, "\"%s\"", main_title);
            else if (v < 0.09)
                st = cp_buf_addf(&title, "%s (From \"%s\")", main_title, pick(&r, &w->titles));
            else if (v < 0.12)
                st = cp_buf_addf(&title, "Oh, %s", main_title);
            else
                st = cp_buf_adds(&title, main_title);
            if (st == CP_OK && rng_unit(&r) < 0.07)
                st = cp_buf_adds(&title,
                                 version_suffixes[rng_below(&r, ARRAY_LEN(version_suffixes))]);
        }
    }
    if (st == CP_OK && n_artists > 1 && rng_unit(&r) < 0.5) {
        /* "(feat. B)", "(feat. B & C)": the featured artists as credited */
        st = cp_buf_adds(&title, rng_unit(&r) < 0.8 ? " (feat. " : " (with ");
        for (int i = 1; i < n_artists && st == CP_OK; i++) {
            if (i > 1)
                st = cp_buf_adds(&title, i + 1 == n_artists ? " & " : ", ");
            if (st == CP_OK)
                st = cp_buf_add(&title, artists.data + name_start[i], name_end[i] - name_start[i]);
        }
        if (st == CP_OK)
            st = cp_buf_adds(&title, ")");
    }

    /* Label: an artist signs with one label (international majors or a local one), with
     * the odd track out on another. */
    char label[128];
    struct rng lr = {hash3(g->seed, ((uint64_t)pool << 32) | chosen[0], SALT_LABEL)};
    if (rng_unit(&r) < 0.15)
        lr = r;
    if (pool == POOL_INTL || rng_unit(&lr) < 0.4)
        snprintf(label, sizeof label, "%s", intl_labels[rng_below(&lr, ARRAY_LEN(intl_labels))]);
    else
        snprintf(label, sizeof label, "%s %s", pick(&lr, &locales[pool_locale(pool)].last),
                 locales[pool_locale(pool)].label_word);

    char id[23];
    track_id(g, t->key, id);
    if (g->format == CP_GENERATE_KAGGLE) {
        if (st == CP_OK)
            st = append_csv_field(&row, title.data, title.len);
        if (st == CP_OK)
            st = cp_buf_adds(&row, ",");
        t->text_split = row.len;
        if (st == CP_OK)
            st = cp_buf_adds(&row, ",");
        if (st == CP_OK)
            st = append_csv_field(&row, artists.data, artists.len);
        if (st == CP_OK)
            st = cp_buf_addf(&row, ",https://open.spotify.com/track/%s,", id);
        if (st == CP_OK)
            t->text = cp_buf_take(&row, &t->text_len);
        cp_buf_free(&artists);
        cp_buf_free(&title);
        cp_buf_free(&row);
        return st;
    }
    if (st == CP_OK)
        st = cp_buf_addf(&row, ",\"spotify:track:%s\",\"", id);
    if (st == CP_OK)
        st = append_escaped(&row, artists.data, artists.len);
    if (st == CP_OK)
        st = cp_buf_adds(&row, "\",\"");
    if (st == CP_OK)
        st = append_escaped(&row, title.data, title.len);
    if (st == CP_OK)
        st = cp_buf_adds(&row, "\",\"");
    if (st == CP_OK)
        st = append_escaped(&row, label, strlen(label));
    if (st == CP_OK)
        st = cp_buf_adds(&row, "\",");
    if (st == CP_OK)
        t->text = cp_buf_take(&row, &t->text_len);
    cp_buf_free(&artists);
    cp_buf_free(&title);
    cp_buf_free(&row);
    return st;
}

/* ------------------------------------------------------------------------------------ */
/* A region being generated                                                              */

struct pool_source {
    int pool;
    double weight;
    double affinity_sigma; /* spread of a track's appeal here around the pool weight */
};

struct candidate {
    double score; /* ln of the track's weight here; ranks by it */
    long long streams;
    struct track *track;
};

struct region_run {
    const struct gen *g;
    int region; /* index in region_models */
    struct pool_source sources[1 + ARRAY_LEN(global_mix)];
    size_t n_sources;
    struct track **alive;
    size_t n_alive, cap_alive;
    struct candidate *cands;
    size_t cap_cands;
};

static void run_add(struct region_run *run, struct track *t)
{
    if (run->n_alive == run->cap_alive) {
        run->cap_alive = run->cap_alive ? run->cap_alive * 2 : 1024;
        run->alive = cp_realloc(run->alive, run->cap_alive * sizeof *run->alive);
    }
    run->alive[run->n_alive++] = t;
}

static void track_free(struct track *t)
{
    if (t) {
        free(t->text);
        free(t);
    }
}

/* Makes a track alive in this region: affinity, text, empty history. */
static cp_status run_admit(struct region_run *run, const struct pool_source *src, struct track *t)
{
    double z = normal_of(hash3(run->g->seed ^ t->key, (uint64_t)run->region, SALT_AFFINITY));
    t->log_affinity = det_log(src->weight) + src->affinity_sigma * z;
    t->charts = t->weeks = 0;
    t->peak = t->week_peak = INT_MAX;
    t->last_rank = t->week_last_rank = -1;
    t->last_day = t->week_last = LONG_MIN;
    t->week_streams = 0;
    t->week_stamp = LONG_MIN;
    cp_status st = build_track_text(run->g, t);
    if (st != CP_OK) {
        track_free(t);
        return st;
    }
    run_add(run, t);
    return CP_OK;
}

/* Admits the tracks a source's pool releases on `day` that are still alive on `from`. */
static cp_status run_release(struct region_run *run, const struct pool_source *src, long day,
                             long from)
{
    long n = releases_on(run->g, src->pool, day);
    for (long ord = 0; ord < n; ord++) {
        uint64_t key = track_key(src->pool, day + KEY_DAY_OFFSET, (uint32_t)ord);
        struct track *t = cp_calloc(1, sizeof *t);
        t->key = key;
        shape_release(run->g, key, day, t);
        if (t->end < from) {
            free(t);
            continue;
        }
        cp_status st = run_admit(run, src, t);
        if (st != CP_OK)
            return st;
    }
    return CP_OK;
}

static cp_status run_init(struct region_run *run, const struct gen *g, int region, long first)
{
    memset(run, 0, sizeof *run);
    run->g = g;
    run->region = region;
    const struct region_model *m = &region_models[region];
    if (region == 0) {
        run->sources[run->n_sources++] = (struct pool_source){POOL_INTL, 1.0, 0.1};
        for (size_t i = 0; i < ARRAY_LEN(global_mix); i++)
            run->sources[run->n_sources++] =
                (struct pool_source){region_index(global_mix[i].code), global_mix[i].weight, 0.3};
    } else {
        run->sources[run->n_sources++] = (struct pool_source){POOL_INTL, m->intl_weight, 0.45};
        run->sources[run->n_sources++] = (struct pool_source){region, 1.0, 0.0};
        if (m->neighbour)
            run->sources[run->n_sources++] =
                (struct pool_source){region_index(m->neighbour), 0.25, 0.5};
    }
    /* Catalogue and holiday songs, then everything released in the warm-up that is still
     * alive on the first day, so the first chart already looks like a steady state. */
    for (size_t s = 0; s < run->n_sources; s++) {
        const struct pool_source *src = &run->sources[s];
        long evergreens = g->chart_size / 2 > 0 ? g->chart_size / 2 : 1;
        long seasonals =
            (long)((src->pool == POOL_INTL ? INTL_SEASONALS : LOCAL_SEASONALS) * g->release_scale);
        if (seasonals < 1)
            seasonals = 1;
        for (int kind = 0; kind < 2; kind++) {
            long n = kind == 0 ? evergreens : seasonals;
            for (long ord = 0; ord < n; ord++) {
                struct track *t = cp_calloc(1, sizeof *t);
                t->key =
                    track_key(src->pool, kind == 0 ? KEY_EVERGREEN : KEY_SEASONAL, (uint32_t)ord);
                shape_catalogue(g, t->key, kind == 0 ? KIND_EVERGREEN : KIND_SEASONAL, t);
                cp_status st = run_admit(run, src, t);
                if (st != CP_OK)
                    return st;
            }
        }
        for (long day = first - MAX_LIFE_DAYS; day < first; day++) {
            cp_status st = run_release(run, src, day, first);
            if (st != CP_OK)
                return st;
        }
    }
    return CP_OK;
}

static void run_cleanup(struct region_run *run)
{
    for (size_t i = 0; i < run->n_alive; i++)
        track_free(run->alive[i]);
    free(run->alive);
    free(run->cands);
}

/* Ranking order: higher score first; the key breaks exact ties so the order is total. */
static int cand_cmp(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->track->key < y->track->key ? -1 : x->track->key > y->track->key ? 1 : 0;
}

static void cand_swap(struct candidate *a, struct candidate *b)
{
    struct candidate t = *a;
    *a = *b;
    *b = t;
}

/* Moves the k best candidates to c[0..k) (in no particular order): quickselect. */
static void select_top(struct candidate *c, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1 && k > lo && k < hi) {
        size_t mid = lo + (hi - lo) / 2;
        /* median of three as pivot, moved to hi-1 */
        if (cand_cmp(&c[mid], &c[lo]) < 0)
            cand_swap(&c[mid], &c[lo]);
        if (cand_cmp(&c[hi - 1], &c[lo]) < 0)
            cand_swap(&c[hi - 1], &c[lo]);
        if (cand_cmp(&c[mid], &c[hi - 1]) < 0)
            cand_swap(&c[mid], &c[hi - 1]);
        size_t store = lo;
        for (size_t i = lo; i < hi - 1; i++)
            if (cand_cmp(&c[i], &c[hi - 1]) < 0)
                cand_swap(&c[i], &c[store++]);
        cand_swap(&c[store], &c[hi - 1]);
        if (store == k || store + 1 == k)
            return;
        if (store > k)
            hi = store;
        else
            lo = store + 1;
    }
}

static void cands_reserve(struct region_run *run, size_t n)
{
    if (n > run->cap_cands) {
        run->cap_cands = n + n / 2;
        run->cands = cp_realloc(run->cands, run->cap_cands * sizeof *run->cands);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Writing                                                                               */

struct writer {
    const char *out_dir;
    char *io_buffer;
    long files_done, files_total;
    long long rows;
    const struct cp_generate_opts *opts;
    char *err;
    size_t errlen;
    /* kaggle: the one open file, that of (kaggle_region, kaggle_year), and the constant
     * `region,chart,` part of its rows */
    FILE *kaggle_file;
    char *kaggle_path;
    int kaggle_region, kaggle_year;
    char kaggle_tail[128];
    size_t kaggle_tail_len;
};

static size_t format_int(char *out, long long v)
{
    char tmp[24];
    size_t n = 0;
    bool neg = v < 0;
    unsigned long long u = neg ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (neg)
        out[len++] = '-';
    while (n)
        out[len++] = tmp[--n];
    return len;
}

/* Writes one chart file: the sorted candidates c[0..n) with their chart-run columns. */
static cp_status write_chart(struct writer *w, const char *region, bool weekly, long day,
                             const struct candidate *c, size_t n)
{
    char date[11];
    cp_date_format_days(day, date);
    char path[4096];
    int plen = snprintf(path, sizeof path, "%s/regional-%s-%s-%s.csv", w->out_dir, region,
                        weekly ? "weekly" : "daily", date);
    if (plen < 0 || (size_t)plen >= sizeof path) {
        snprintf(w->err, w->errlen, "out_dir: path too long");
        return CP_ERR_INVALID;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(w->err, w->errlen, "cannot create %s: %s", path, strerror(errno));
        return CP_ERR_IO;
    }
    setvbuf(f, w->io_buffer, _IOFBF, IO_BUFFER_SIZE);
    static const char header_daily[] = "\xEF\xBB\xBFrank,uri,artist_names,track_name,source,"
                                       "peak_rank,previous_rank,days_on_chart,streams\n";
    static const char header_weekly[] = "\xEF\xBB\xBFrank,uri,artist_names,track_name,source,"
                                        "peak_rank,previous_rank,weeks_on_chart,streams\n";
    if (weekly)
        fwrite(header_weekly, 1, sizeof header_weekly - 1, f);
    else
        fwrite(header_daily, 1, sizeof header_daily - 1, f);
    char line[ROW_MAX];
    for (size_t i = 0; i < n; i++) {
        const struct track *t = c[i].track;
        size_t len = format_int(line, (long long)(i + 1));
        memcpy(line + len, t->text, t->text_len);
        len += t->text_len;
        len += format_int(line + len, weekly ? t->week_peak : t->peak);
        line[len++] = ',';
        int prev = weekly ? t->week_last_rank : t->last_rank;
        len += format_int(line + len, prev);
        line[len++] = ',';
        len += format_int(line + len, weekly ? t->weeks : t->charts);
        line[len++] = ',';
        line[len++] = '"';
        len += format_int(line + len, c[i].streams);
        line[len++] = '"';
        line[len++] = '\n';
        fwrite(line, 1, len, f);
    }
    bool failed = ferror(f) != 0;
    int saved = errno;
    if (fclose(f) != 0 && !failed) {
        failed = true;
        saved = errno;
    }
    if (failed) {
        snprintf(w->err, w->errlen, "cannot write %s: %s", path, strerror(saved));
        return CP_ERR_IO;
    }
    w->rows += (long long)n;
    w->files_done++;
    if (w->opts->progress)
        w->opts->progress(w->files_done, w->files_total, w->rows, w->opts->progress_ud);
    return CP_OK;
}

/* The country name the Kaggle data writes for a region code (core/series.c). */
static const char *region_name(const char *code)
{
    size_t count;
    const struct cp_region *list = cp_region_list(&count);
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i].code, code) == 0)
            return list[i].name;
    return NULL;
}

/* Closes the open kaggle file. With report, a failed write is an error and a good file
 * counts as written; without (the run already failed), the file is only released. */
static cp_status kaggle_close(struct writer *w, bool report)
{
    if (!w->kaggle_file)
        return CP_OK;
    bool failed = ferror(w->kaggle_file) != 0;
    int saved = errno;
    if (fclose(w->kaggle_file) != 0 && !failed) {
        failed = true;
        saved = errno;
    }
    w->kaggle_file = NULL;
    cp_status st = CP_OK;
    if (report && failed) {
        snprintf(w->err, w->errlen, "cannot write %s: %s", w->kaggle_path, strerror(saved));
        st = CP_ERR_IO;
    } else if (report) {
        w->files_done++;
        if (w->opts->progress)
            w->opts->progress(w->files_done, w->files_total, w->rows, w->opts->progress_ud);
    }
    free(w->kaggle_path);
    w->kaggle_path = NULL;
    return st;
}

/* Opens kaggle-charts-<year>-<region>.csv and writes its header. Year first, so that a
 * folder listed in name order interleaves regions and parallel loads get different series. */
static cp_status kaggle_open(struct writer *w, int region, int year)
{
    const char *code = region_models[region].code;
    const char *name = region_name(code);
    if (!name) { /* cannot happen: test_generate checks every code against core/series.c */
        snprintf(w->err, w->errlen, "region %s has no name in core/series.c", code);
        return CP_ERR_INTERNAL;
    }
    struct cp_buf tail;
    cp_buf_init(&tail, sizeof w->kaggle_tail - 1);
    cp_status st = append_csv_field(&tail, name, strlen(name));
    if (st == CP_OK)
        st = cp_buf_adds(&tail, ",top200,");
    if (st != CP_OK) {
        cp_buf_free(&tail);
        snprintf(w->err, w->errlen, "region name %s is too long", name);
        return CP_ERR_INTERNAL;
    }
    memcpy(w->kaggle_tail, tail.data, tail.len);
    w->kaggle_tail_len = tail.len;
    cp_buf_free(&tail);

    w->kaggle_path = cp_asprintf("%s/kaggle-charts-%04d-%s.csv", w->out_dir, year, code);
    w->kaggle_file = fopen(w->kaggle_path, "wb");
    if (!w->kaggle_file) {
        snprintf(w->err, w->errlen, "cannot create %s: %s", w->kaggle_path, strerror(errno));
        free(w->kaggle_path);
        w->kaggle_path = NULL;
        return CP_ERR_IO;
    }
    setvbuf(w->kaggle_file, w->io_buffer, _IOFBF, IO_BUFFER_SIZE);
    w->kaggle_region = region;
    w->kaggle_year = year;
    /* No BOM and CRLF, as the Kaggle charts.csv has. */
    static const char header[] = "title,rank,date,artist,url,region,chart,trend,streams\r\n";
    fwrite(header, 1, sizeof header - 1, w->kaggle_file);
    return CP_OK;
}

/* Appends one daily chart, the sorted candidates c[0..n), to its region's file of that year.
 * The trend compares with the previous day's chart, as t->last_rank does at this point. */
static cp_status write_kaggle_chart(struct writer *w, int region, long day,
                                    const struct candidate *c, size_t n)
{
    int year, month, mday;
    cp_date_from_days(day, &year, &month, &mday);
    cp_status st = CP_OK;
    if (w->kaggle_file && (w->kaggle_region != region || w->kaggle_year != year))
        st = kaggle_close(w, true);
    if (st == CP_OK && !w->kaggle_file)
        st = kaggle_open(w, region, year);
    if (st != CP_OK)
        return st;
    char date[11];
    cp_date_format_days(day, date);
    char line[ROW_MAX];
    for (size_t i = 0; i < n; i++) {
        const struct track *t = c[i].track;
        int rank = (int)i + 1;
        size_t len = 0;
        memcpy(line, t->text, t->text_split);
        len += t->text_split;
        len += format_int(line + len, rank);
        line[len++] = ',';
        memcpy(line + len, date, 10);
        len += 10;
        memcpy(line + len, t->text + t->text_split, t->text_len - t->text_split);
        len += t->text_len - t->text_split;
        memcpy(line + len, w->kaggle_tail, w->kaggle_tail_len);
        len += w->kaggle_tail_len;
        const char *trend = t->last_rank < 0      ? "NEW_ENTRY"
                            : t->last_rank > rank ? "MOVE_UP"
                            : t->last_rank < rank ? "MOVE_DOWN"
                                                  : "SAME_POSITION";
        size_t trend_len = strlen(trend);
        memcpy(line + len, trend, trend_len);
        len += trend_len;
        line[len++] = ',';
        len += format_int(line + len, c[i].streams);
        /* pandas wrote the column as floats (it held NaN for viral50 rows) */
        memcpy(line + len, ".0\r\n", 4);
        len += 4;
        fwrite(line, 1, len, w->kaggle_file);
    }
    w->rows += (long long)n;
    return CP_OK;
}

/* Streams that day: market size x weekday x growth x relative score^steepness. */
static double day_factor(long day)
{
    static const double weekday[7] = {0.99, 1.05, 1.0, 0.90, 0.96, 0.97, 0.98}; /* Thu.. */
    /* Spotify grows roughly 8% a year; day 18262 is 2020-01-01 */
    return weekday[weekday_from_thursday(day)] * det_exp(0.08 * (double)(day - 18262) / 365.25);
}

#define LOG_REFERENCE_SCORE 1.15 /* ln of a typical rank-1 score */

/* One day in one region: score, rank, update histories, write. */
static cp_status run_day(struct region_run *run, struct writer *w, long day)
{
    const struct gen *g = run->g;
    const struct region_model *m = &region_models[run->region];
    double season = season_factor(day);
    double log_season = season > 0 ? det_log(season) : 0;
    long week = week_of(day);
    cands_reserve(run, run->n_alive);
    size_t n = 0;
    for (size_t i = 0; i < run->n_alive;) {
        struct track *t = run->alive[i];
        if (t->end < day && t->week_stamp != week) {
            /* its curve is over and nothing of it is pending in this week: forget it */
            run->alive[i] = run->alive[--run->n_alive];
            track_free(t);
            continue;
        }
        i++;
        double lp;
        if (!track_log_pop(g, t, day, log_season, season > 0, &lp))
            continue;
        uint64_t base = g->noise_seed ^ t->key;
        double noise = 0.14 * smooth_noise(base, NOISE_STREAM(run->region), day, NOISE_KNOT_DAYS) +
                       0.035 * normal_of(hash3(base, (uint64_t)run->region,
                                               SALT_JITTER ^ ((uint64_t)day << 8)));
        run->cands[n].score = lp + t->log_affinity + noise;
        run->cands[n].track = t;
        n++;
    }
    size_t k = (size_t)g->chart_size;
    if (n < k) {
        /* cannot happen: a region always has chart_size catalogue songs */
        snprintf(w->err, w->errlen, "region %s has only %zu candidates", m->code, n);
        return CP_ERR_INTERNAL;
    }
    select_top(run->cands, n, k);
    qsort(run->cands, k, sizeof *run->cands, cand_cmp);
    double scale = m->top_streams * day_factor(day);
    long long above = LLONG_MAX;
    for (size_t i = 0; i < k; i++) {
        struct candidate *c = &run->cands[i];
        double s = scale * det_exp(m->steepness * (c->score - LOG_REFERENCE_SCORE));
        long long streams = s < 1 ? 1 : s > 4e9 ? 4000000000LL : (long long)s;
        if (streams > above) /* never let rounding break the ordering */
            streams = above;
        above = streams;
        c->streams = streams;
        struct track *t = c->track;
        int rank = (int)i + 1;
        t->last_rank = t->last_day == day - 1 ? t->last_rank : -1;
        t->charts++;
        if (rank < t->peak)
            t->peak = rank;
        if (t->week_stamp != week) {
            t->week_stamp = week;
            t->week_streams = 0;
        }
        t->week_streams += streams;
    }
    cp_status st = g->format == CP_GENERATE_KAGGLE
                       ? write_kaggle_chart(w, run->region, day, run->cands, k)
                       : write_chart(w, m->code, false, day, run->cands, k);
    /* After writing, the ranks written become "previous" for tomorrow. */
    for (size_t i = 0; i < k; i++) {
        struct track *t = run->cands[i].track;
        t->last_rank = (int)i + 1;
        t->last_day = day;
    }
    return st;
}

/* A full week ending on Thursday `day`: rank by the week's daily streams. */
static cp_status run_week(struct region_run *run, struct writer *w, long day)
{
    long week = week_of(day);
    cands_reserve(run, run->n_alive);
    size_t n = 0;
    for (size_t i = 0; i < run->n_alive; i++) {
        struct track *t = run->alive[i];
        if (t->week_stamp != week || t->week_streams == 0)
            continue;
        run->cands[n].score = (double)t->week_streams;
        run->cands[n].streams = t->week_streams;
        run->cands[n].track = t;
        n++;
    }
    size_t k = (size_t)run->g->chart_size;
    if (n < k) { /* a week holds at least one full daily chart */
        char date[11];
        cp_date_format_days(day, date);
        snprintf(w->err, w->errlen, "week ending %s has only %zu tracks", date, n);
        return CP_ERR_INTERNAL;
    }
    select_top(run->cands, n, k);
    qsort(run->cands, k, sizeof *run->cands, cand_cmp);
    for (size_t i = 0; i < k; i++) {
        struct track *t = run->cands[i].track;
        int rank = (int)i + 1;
        t->week_last_rank = t->week_last == week - 1 ? t->week_last_rank : -1;
        t->weeks++;
        if (rank < t->week_peak)
            t->week_peak = rank;
    }
    cp_status st = write_chart(w, region_models[run->region].code, true, day, run->cands, k);
    for (size_t i = 0; i < k; i++) {
        struct track *t = run->cands[i].track;
        t->week_last_rank = (int)i + 1;
        t->week_last = week;
    }
    return st;
}

static cp_status generate_region(const struct gen *g, int region, long first, long last,
                                 bool weekly, struct writer *w)
{
    struct region_run run;
    cp_status st = run_init(&run, g, region, first);
    for (long day = first; day <= last && st == CP_OK; day++) {
        for (size_t s = 0; s < run.n_sources && st == CP_OK; s++)
            st = run_release(&run, &run.sources[s], day, day);
        if (st == CP_OK)
            st = run_day(&run, w, day);
        if (st == CP_OK && weekly && weekday_from_thursday(day) == 0 && day - 6 >= first)
            st = run_week(&run, w, day);
    }
    run_cleanup(&run);
    return st;
}

/* ------------------------------------------------------------------------------------ */
/* Options                                                                               */

void cp_generate_opts_init(struct cp_generate_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->regions = 3;
    opts->days = 60;
    opts->seed = 1;
    opts->chart_size = DEFAULT_CHART_SIZE;
    opts->weekly = true;
    opts->format = CP_GENERATE_SPOTIFY;
}

/* Option names as the library and the command line spell them. */
enum opt_name { OPT_OUT, OPT_REGIONS, OPT_DAYS, OPT_END_DATE, OPT_CHART_SIZE, OPT_FORMAT };
static const char *const lib_names[] = {"out_dir",  "regions",    "days",
                                        "end_date", "chart_size", "format"};
static const char *const cli_names[] = {"--out",      "--regions",    "--days",
                                        "--end-date", "--chart-size", "--format"};

static cp_status validate(const struct cp_generate_opts *o, bool cli, long *first, long *last,
                          char *err, size_t errlen)
{
    const char *const *name = cli ? cli_names : lib_names;
    if (!o->out_dir || !*o->out_dir) {
        snprintf(err, errlen, "%s: an output directory is required", name[OPT_OUT]);
        return CP_ERR_INVALID;
    }
    if (o->regions < 1 || o->regions > CP_GENERATE_MAX_REGIONS) {
        snprintf(err, errlen, "%s: must be from 1 to %d, got %d", name[OPT_REGIONS],
                 CP_GENERATE_MAX_REGIONS, o->regions);
        return CP_ERR_INVALID;
    }
    if (o->days < 1 || o->days > CP_GENERATE_MAX_DAYS) {
        snprintf(err, errlen, "%s: must be from 1 to %d, got %d", name[OPT_DAYS],
                 CP_GENERATE_MAX_DAYS, o->days);
        return CP_ERR_INVALID;
    }
    if (o->chart_size < 0 || o->chart_size > CP_GENERATE_MAX_CHART_SIZE) {
        snprintf(err, errlen, "%s: must be from 1 to %d, got %d", name[OPT_CHART_SIZE],
                 CP_GENERATE_MAX_CHART_SIZE, o->chart_size);
        return CP_ERR_INVALID;
    }
    if (o->format != CP_GENERATE_SPOTIFY && o->format != CP_GENERATE_KAGGLE) {
        snprintf(err, errlen, "%s: must be spotify or kaggle", name[OPT_FORMAT]);
        return CP_ERR_INVALID;
    }
    long end;
    if (o->end_date) {
        if (!cp_date_valid(o->end_date)) {
            snprintf(err, errlen, "%s: expected a date YYYY-MM-DD, got '%.40s'", name[OPT_END_DATE],
                     o->end_date);
            return CP_ERR_INVALID;
        }
        end = cp_date_text_to_days(o->end_date);
    } else {
        end = (long)floor_div((long)time(NULL), 86400) - 1;
    }
    if (end - o->days + 1 < cp_date_to_days(CP_DATE_YEAR_MIN, 1, 1)) {
        snprintf(err, errlen, "%s: the first chart would fall before the year %d", name[OPT_DAYS],
                 CP_DATE_YEAR_MIN);
        return CP_ERR_INVALID;
    }
    *first = end - o->days + 1;
    *last = end;
    return CP_OK;
}

static long count_weeks(long first, long last)
{
    /* Thursdays T with first <= T - 6 and T <= last */
    long lo = week_of(first + 6), hi = floor_div(last, 7);
    return hi >= lo ? hi - lo + 1 : 0;
}

/* The number of files cp_generate writes for valid options spanning first..last. */
static long count_files(const struct cp_generate_opts *o, long first, long last)
{
    if (o->format == CP_GENERATE_KAGGLE) {
        int y1, y2, m, d;
        cp_date_from_days(first, &y1, &m, &d);
        cp_date_from_days(last, &y2, &m, &d);
        return (long)o->regions * (y2 - y1 + 1);
    }
    long weeks = o->weekly ? count_weeks(first, last) : 0;
    return (long)o->regions * (o->days + weeks);
}

static cp_status make_dirs(const char *dir, char *err, size_t errlen)
{
    char *path = cp_strdup(dir);
    cp_status st = CP_OK;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        struct stat sb;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "out_dir: cannot create %s: %s", path, strerror(errno));
            st = CP_ERR_IO;
        } else if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(err, errlen, "out_dir: %s is not a directory", path);
            st = CP_ERR_IO;
        }
        *p = saved;
        if (st != CP_OK || saved == '\0')
            break;
    }
    free(path);
    return st;
}

cp_status cp_generate(const struct cp_generate_opts *opts, long long *rows_written, char *err,
                      size_t errlen)
{
    long first = 0, last = 0;
    if (rows_written)
        *rows_written = 0;
    cp_status st = validate(opts, false, &first, &last, err, errlen);
    if (st != CP_OK)
        return st;
    st = make_dirs(opts->out_dir, err, errlen);
    if (st != CP_OK)
        return st;
    struct gen g = {.seed = opts->seed,
                    .noise_seed = mix64(opts->seed ^ UINT64_C(0x6e6f697365)),
                    .chart_size = opts->chart_size ? opts->chart_size : DEFAULT_CHART_SIZE,
                    .format = opts->format};
    g.release_scale = (double)g.chart_size / DEFAULT_CHART_SIZE;
    struct writer w = {.out_dir = opts->out_dir,
                       .io_buffer = cp_malloc(IO_BUFFER_SIZE),
                       .files_total = count_files(opts, first, last),
                       .opts = opts,
                       .err = err,
                       .errlen = errlen};
    bool weekly = opts->weekly && opts->format == CP_GENERATE_SPOTIFY;
    for (int region = 0; region < opts->regions && st == CP_OK; region++)
        st = generate_region(&g, region, first, last, weekly, &w);
    /* the last kaggle file is still open (the io buffer is its stdio buffer) */
    cp_status closed = kaggle_close(&w, st == CP_OK);
    if (st == CP_OK)
        st = closed;
    free(w.io_buffer);
    if (rows_written)
        *rows_written = w.rows;
    return st;
}

/* ------------------------------------------------------------------------------------ */
/* chartpulse generate                                                                   */

static const char usage[] =
    "usage: chartpulse generate --out DIR [options]\n"
    "\n"
    "Writes synthetic Spotify charts in the charts.spotify.com download format\n"
    "(regional-<region>-daily-<date>.csv, regional-<region>-weekly-<date>.csv) or in the\n"
    "Kaggle \"Spotify Charts\" format (kaggle-charts-<year>-<region>.csv, daily charts), the\n"
    "same files for the same options on every machine.\n"
    "\n"
    "  --out DIR          output directory, created if missing (required)\n"
    "  --regions N        regions, 1-75: global, then the biggest markets (default 3)\n"
    "  --days N           daily charts per region (default 60)\n"
    "  --end-date D       date of the newest chart, YYYY-MM-DD (default yesterday, UTC)\n"
    "  --seed S           random seed, a non-negative integer (default 1)\n"
    "  --chart-size N     ranks per chart, 1-1000 (default 200)\n"
    "  --weekly           also write weekly charts, weeks ending Thursday (default)\n"
    "  --no-weekly        daily charts only\n"
    "  --format F         spotify (default): one file per chart;\n"
    "                     kaggle: one file per region and year, daily charts only\n"
    "  --help             show this help\n"
    "\n"
    "Scale: 70 regions x 1826 days x 200 ranks is about 26M rows.\n";

static bool parse_int_arg(const char *s, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

static void cli_progress_cb(long files_done, long files_total, long long rows, void *ud)
{
    cp_progress_update(ud, "generate", (double)files_done, (double)files_total, rows);
}

int cp_generate_main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"regions", required_argument, NULL, 'r'},
        {"days", required_argument, NULL, 'd'},
        {"end-date", required_argument, NULL, 'e'},
        {"seed", required_argument, NULL, 's'},
        {"chart-size", required_argument, NULL, 'c'},
        {"weekly", no_argument, NULL, 'w'},
        {"no-weekly", no_argument, NULL, 'W'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cp_generate_opts opts;
    cp_generate_opts_init(&opts);
    bool weekly_asked = false; /* --weekly given, which the kaggle format cannot honour */
    /* Restart getopt: main or an earlier call may have used it. glibc resets fully on 0. */
#ifdef __GLIBC__
    optind = 0;
#else
    optind = 1;
#endif
    opterr = 0; /* we print our own one-line errors */
    int c;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            opts.out_dir = optarg;
            break;
        case 'r':
            if (!parse_int_arg(optarg, 1, CP_GENERATE_MAX_REGIONS, &opts.regions))
                return cp_cli_fail("generate",
                                   "--regions: expected an integer from 1 to %d, got '%s'",
                                   CP_GENERATE_MAX_REGIONS, optarg);
            break;
        case 'd':
            if (!parse_int_arg(optarg, 1, CP_GENERATE_MAX_DAYS, &opts.days))
                return cp_cli_fail("generate", "--days: expected an integer from 1 to %d, got '%s'",
                                   CP_GENERATE_MAX_DAYS, optarg);
            break;
        case 'c':
            if (!parse_int_arg(optarg, 1, CP_GENERATE_MAX_CHART_SIZE, &opts.chart_size))
                return cp_cli_fail("generate",
                                   "--chart-size: expected an integer from 1 to %d, got '%s'",
                                   CP_GENERATE_MAX_CHART_SIZE, optarg);
            break;
        case 'e':
            opts.end_date = optarg;
            break;
        case 's': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' ||
                optarg[0] == '+' || optarg[0] == ' ')
                return cp_cli_fail("generate", "--seed: expected a non-negative integer, got '%s'",
                                   optarg);
            opts.seed = v;
            break;
        }
        case 'w':
            opts.weekly = true;
            weekly_asked = true;
            break;
        case 'W':
            opts.weekly = false;
            weekly_asked = false;
            break;
        case 'f':
            if (strcmp(optarg, "spotify") == 0)
                opts.format = CP_GENERATE_SPOTIFY;
            else if (strcmp(optarg, "kaggle") == 0)
                opts.format = CP_GENERATE_KAGGLE;
            else
                return cp_cli_fail("generate", "--format: expected spotify or kaggle, got '%s'",
                                   optarg);
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        case ':':
            return cp_cli_fail("generate", "%s: missing value", argv[optind - 1]);
        default:
            return cp_cli_fail("generate", "unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cp_cli_fail("generate", "unexpected argument '%s' (see --help)", argv[optind]);
    if (weekly_asked && opts.format == CP_GENERATE_KAGGLE)
        return cp_cli_fail("generate", "--weekly: the kaggle format has daily charts only");

    char err[512];
    long first, last;
    if (validate(&opts, true, &first, &last, err, sizeof err) != CP_OK)
        return cp_cli_fail("generate", "%s", err);

    struct cp_progress progress;
    cp_progress_init(&progress);
    opts.progress = cli_progress_cb;
    opts.progress_ud = &progress;
    long long rows = 0;
    cp_status st = cp_generate(&opts, &rows, err, sizeof err);
    cp_progress_finish(&progress);
    if (st != CP_OK)
        return cp_cli_fail("generate", "%s", err);
    printf("generated %ld files, %lld rows in %s\n", count_files(&opts, first, last), rows,
           opts.out_dir);
    return 0;
}
