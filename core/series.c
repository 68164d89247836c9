/* The known chart regions and the country names the Kaggle data uses for them. */
#include "core/series.h"

#include <string.h>
#include <strings.h>

/* Same codes, names and order as the insert into core.region in 0001_core.sql. */
static const struct cp_region regions[] = {
    {"global", "Global"},     {"ae", "United Arab Emirates"},
    {"ar", "Argentina"},      {"at", "Austria"},
    {"au", "Australia"},      {"be", "Belgium"},
    {"bg", "Bulgaria"},       {"bo", "Bolivia"},
    {"br", "Brazil"},         {"by", "Belarus"},
    {"ca", "Canada"},         {"ch", "Switzerland"},
    {"cl", "Chile"},          {"co", "Colombia"},
    {"cr", "Costa Rica"},     {"cy", "Cyprus"},
    {"cz", "Czech Republic"}, {"de", "Germany"},
    {"dk", "Denmark"},        {"do", "Dominican Republic"},
    {"ec", "Ecuador"},        {"ee", "Estonia"},
    {"eg", "Egypt"},          {"es", "Spain"},
    {"fi", "Finland"},        {"fr", "France"},
    {"gb", "United Kingdom"}, {"gr", "Greece"},
    {"gt", "Guatemala"},      {"hk", "Hong Kong"},
    {"hn", "Honduras"},       {"hu", "Hungary"},
    {"id", "Indonesia"},      {"ie", "Ireland"},
    {"il", "Israel"},         {"in", "India"},
    {"is", "Iceland"},        {"it", "Italy"},
    {"jp", "Japan"},          {"kr", "South Korea"},
    {"kz", "Kazakhstan"},     {"lt", "Lithuania"},
    {"lu", "Luxembourg"},     {"lv", "Latvia"},
    {"ma", "Morocco"},        {"mx", "Mexico"},
    {"my", "Malaysia"},       {"ng", "Nigeria"},
    {"ni", "Nicaragua"},      {"nl", "Netherlands"},
    {"no", "Norway"},         {"nz", "New Zealand"},
    {"pa", "Panama"},         {"pe", "Peru"},
    {"ph", "Philippines"},    {"pk", "Pakistan"},
    {"pl", "Poland"},         {"pt", "Portugal"},
    {"py", "Paraguay"},       {"ro", "Romania"},
    {"ru", "Russia"},         {"sa", "Saudi Arabia"},
    {"se", "Sweden"},         {"sg", "Singapore"},
    {"sk", "Slovakia"},       {"sv", "El Salvador"},
    {"th", "Thailand"},       {"tr", "Turkey"},
    {"tw", "Taiwan"},         {"ua", "Ukraine"},
    {"us", "United States"},  {"uy", "Uruguay"},
    {"ve", "Venezuela"},      {"vn", "Vietnam"},
    {"za", "South Africa"},
};

/* Other spellings of the same countries seen in chart datasets and official names. */
static const struct cp_region aliases[] = {
    {"kr", "Korea"},
    {"kr", "Republic of Korea"},
    {"kr", "Korea, Republic of"},
    {"cz", "Czechia"},
    {"us", "USA"},
    {"us", "United States of America"},
    {"gb", "UK"},
    {"gb", "Great Britain"},
    {"tr", "Turkiye"},
    {"tr", "T\xc3\xbcrkiye"},
    {"ru", "Russian Federation"},
    {"vn", "Viet Nam"},
    {"ae", "UAE"},
    {"tw", "Taiwan, Province of China"},
    {"hk", "Hong Kong SAR"},
    {"hk", "Hong Kong SAR China"},
};

#define N_REGIONS (sizeof regions / sizeof regions[0])
#define N_ALIASES (sizeof aliases / sizeof aliases[0])

bool cp_region_known(const char *code)
{
    if (!code)
        return false;
    for (size_t i = 0; i < N_REGIONS; i++)
        if (strcmp(regions[i].code, code) == 0)
            return true;
    return false;
}

/* Case-insensitive equality of name against the n bytes at s. */
static bool equal_nocase(const char *name, const char *s, size_t n)
{
    return strlen(name) == n && strncasecmp(name, s, n) == 0;
}

const char *cp_region_from_name(const char *name_or_code)
{
    if (!name_or_code)
        return NULL;
    const char *s = name_or_code;
    size_t n = strlen(s);
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0)
        return NULL;
    for (size_t i = 0; i < N_REGIONS; i++)
        if (equal_nocase(regions[i].code, s, n) || equal_nocase(regions[i].name, s, n))
            return regions[i].code;
    for (size_t i = 0; i < N_ALIASES; i++)
        if (equal_nocase(aliases[i].name, s, n))
            return aliases[i].code;
    return NULL;
}

const struct cp_region *cp_region_list(size_t *count)
{
    *count = N_REGIONS;
    return regions;
}

const char *const cp_periods[] = {"daily", "weekly", NULL};
const char *const cp_chart_kinds[] = {"regional", "viral", NULL};

static bool one_of(const char *const *choices, const char *s)
{
    if (!s)
        return false;
    for (size_t i = 0; choices[i]; i++)
        if (!strcmp(choices[i], s))
            return true;
    return false;
}

bool cp_period_valid(const char *s)
{
    return one_of(cp_periods, s);
}

bool cp_chart_kind_valid(const char *s)
{
    return one_of(cp_chart_kinds, s);
}

int cp_period_days(const char *period)
{
    return period && !strcmp(period, "weekly") ? 7 : 1;
}

const char *cp_period_unit(const char *period)
{
    return period && !strcmp(period, "weekly") ? "weeks" : "days";
}

const char *cp_period_on_chart(const char *period)
{
    return period && !strcmp(period, "weekly") ? "weeks_on_chart" : "days_on_chart";
}
