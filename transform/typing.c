/*
 * transform/typing.c
 *   The pure value parsers of the transform (contract section 4, rules 2-4):
 *   placeholders, q<N> keys, durations and plain decimal numbers. Each takes
 *   an explicit length (values may contain any byte) and never allocates.
 */
#include <string.h>

#include "transform/transform.h"

/* PostgreSQL numeric's limits: digits before and after the decimal point.
 * A longer "decimal" would fail COPY, so it is not one for answer_num. */
#define NUMERIC_MAX_INT_DIGITS 131072
#define NUMERIC_MAX_FRAC_DIGITS 16383

static bool is_digit(char c);
static bool parse_uint(const char *s, size_t n, int64_t limit, int64_t *out);

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* parse_uint: n >= 1 ASCII digits, value <= limit. */
static bool
parse_uint(const char *s, size_t n, int64_t limit, int64_t *out)
{
	int64_t		v = 0;
	size_t		i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
	{
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
		if (v > limit)
			return false;
	}
	*out = v;
	return true;
}

/*
 * transform_is_placeholder: "", "-", "--", or only blanks (space, tab): the
 * API's ways of saying "no value".
 */
bool
transform_is_placeholder(const char *s, size_t n)
{
	size_t		i;

	if (n == 0)
		return true;
	if ((n == 1 && s[0] == '-') || (n == 2 && s[0] == '-' && s[1] == '-'))
		return true;
	for (i = 0; i < n; i++)
	{
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	}
	return true;
}

/*
 * transform_question_no: "q" or "Q", then one or more digits (leading zeros
 * allowed) giving a positive number that fits int32_t; -1 for anything else
 * (q0, q, qabc, q1x, q99999999999).
 */
int32_t
transform_question_no(const char *key, size_t n)
{
	int64_t		v;
	size_t		i = 1;

	if (n < 2 || (key[0] != 'q' && key[0] != 'Q'))
		return -1;
	while (i < n - 1 && key[i] == '0')
		i++;					/* leading zeros do not count toward overflow */
	if (!parse_uint(key + i, n - i, INT32_MAX, &v) || v == 0)
		return -1;
	return (int32_t) v;
}

/*
 * transform_parse_duration: "[H]H:MM:SS" (any number of hour digits, MM and
 * SS two digits below 60), "M:SS"/"MM:SS", or plain non-negative integer
 * seconds. The total must fit int32_t. No blanks, signs or fractions.
 */
bool
transform_parse_duration(const char *s, size_t n, int32_t *out)
{
	const char *c1;
	const char *c2;
	int64_t		a;
	int64_t		b;
	int64_t		c;
	int64_t		total;

	if (s == NULL || n == 0)
		return false;
	c1 = memchr(s, ':', n);
	if (c1 == NULL)
	{
		if (!parse_uint(s, n, INT32_MAX, &total))
			return false;
		*out = (int32_t) total;
		return true;
	}
	c2 = memchr(c1 + 1, ':', n - (size_t) (c1 + 1 - s));
	if (c2 == NULL)
	{
		/* MM:SS */
		if (c1 - s > 2 || !parse_uint(s, (size_t) (c1 - s), 59, &b) ||
			s + n - (c1 + 1) != 2 || !parse_uint(c1 + 1, 2, 59, &c))
			return false;
		*out = (int32_t) (b * 60 + c);
		return true;
	}
	if (c1 - s > 10 || !parse_uint(s, (size_t) (c1 - s), INT32_MAX, &a) ||
		c2 - (c1 + 1) != 2 || !parse_uint(c1 + 1, 2, 59, &b) ||
		s + n - (c2 + 1) != 2 || !parse_uint(c2 + 1, 2, 59, &c))
		return false;
	total = a * 3600 + b * 60 + c;
	if (total > INT32_MAX)
		return false;
	*out = (int32_t) total;
	return true;
}

/*
 * transform_is_decimal: [+-]digits[.digits], nothing else (no exponent,
 * blanks, "1.", ".5", hex, NaN), within PostgreSQL numeric's digit limits,
 * so the text can go to a numeric column as is.
 */
bool
transform_is_decimal(const char *s, size_t n)
{
	size_t		i = 0;
	size_t		int_start;
	size_t		frac_start;

	if (s == NULL || n == 0)
		return false;
	if (s[0] == '+' || s[0] == '-')
		i++;
	int_start = i;
	while (i < n && is_digit(s[i]))
		i++;
	if (i == int_start || i - int_start > NUMERIC_MAX_INT_DIGITS)
		return false;
	if (i == n)
		return true;
	if (s[i] != '.')
		return false;
	frac_start = ++i;
	while (i < n && is_digit(s[i]))
		i++;
	return i == n && i > frac_start && i - frac_start <= NUMERIC_MAX_FRAC_DIGITS;
}
