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
/* An exponent no number numeric can hold needs (zero aside, which numeric
 * refuses too past INT_MAX / 2); it also keeps the sums below in range. */
#define NUMERIC_MAX_EXPONENT 1000000

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

/*
 * transform_number_fits_numeric: can PostgreSQL's numeric, and so jsonb
 * (whose numbers are numerics), hold the JSON number s? numeric_in
 * refuses ("value overflows numeric format") a value with more than
 * 131072 digits before the decimal point (leading zeros aside) or a scale
 * above 16383 (the digits after the point, trailing zeros included, less
 * the exponent: 0.0e-16383 is refused, although zero). JSON allows
 * 1e200000; a text that is not a JSON number is false too.
 */
bool
transform_number_fits_numeric(const char *s, size_t n)
{
	size_t		i = 0;
	size_t		int_start;
	size_t		int_len;
	size_t		frac_start;
	size_t		frac_len = 0;
	size_t		k;
	int64_t		exp = 0;
	int64_t		before_point;
	bool		neg_exp = false;

	if (s == NULL || n == 0)
		return false;
	if (s[0] == '-')
		i++;
	int_start = i;
	while (i < n && is_digit(s[i]))
		i++;
	int_len = i - int_start;
	if (int_len == 0)
		return false;
	frac_start = i + 1;
	if (i < n && s[i] == '.')
	{
		for (i++; i < n && is_digit(s[i]); i++)
			frac_len++;
		if (frac_len == 0)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E'))
	{
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			neg_exp = s[i++] == '-';
		if (i == n)
			return false;
		for (; i < n && is_digit(s[i]); i++)
		{
			exp = exp * 10 + (s[i] - '0');
			if (exp > NUMERIC_MAX_EXPONENT)
				return false;
		}
		if (neg_exp)
			exp = -exp;
	}
	if (i != n)
		return false;
	if ((int64_t) frac_len - exp > NUMERIC_MAX_FRAC_DIGITS)
		return false;
	/* digits before the point, from the first significant one */
	for (k = 0; k < int_len && s[int_start + k] == '0'; k++)
		;
	if (k < int_len)
		before_point = (int64_t) (int_len - k);
	else
	{
		for (k = 0; k < frac_len && s[frac_start + k] == '0'; k++)
			;
		if (k == frac_len)
			return true;		/* zero: only its scale counts */
		before_point = -(int64_t) k;
	}
	return before_point + exp <= NUMERIC_MAX_INT_DIGITS;
}
