/* SPDX-License-Identifier: BSD-3-Clause */
/* User strings as data: UTF-8 validity and control characters, checked
 * where they enter (options, environment, host names) so that they can
 * break neither a '#' line of the output nor a JSON string. */
#include <stddef.h>
#include <stdint.h>

#include "common/rb.h"

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the terminating NUL */
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

int rb_text_check(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq(p);

		if (!n)
			return RB_TEXT_BAD_UTF8;
		if (n == 1 && is_control(*p))
			return RB_TEXT_CONTROL;
		p += n;
	}
	return 0;
}

size_t rb_text_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t fixed = 0;

	while (*p) {
		size_t n = utf8_seq(p);

		if (!n || (n == 1 && is_control(*p))) {
			*p++ = '?';
			fixed++;
			continue;
		}
		p += n;
	}
	return fixed;
}

size_t rb_text_bound(char *s, size_t len)
{
	if (!len)
		return 0;
	s[len - 1] = '\0';
	return rb_text_sanitize(s);
}
