/* Appointment references: "OTD-" and six characters nobody misreads. */
#include "onthedot/reference.h"

#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "OTD-"
#define PREFIX_LEN 4
#define CODE_LEN 6

/* 32 symbols: digits 2-9 and the letters without I and O, so that 0/O and
 * 1/I are never confused; 256 is a multiple of 32, so a random byte maps
 * to a uniform symbol. */
static const char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

void otd_reference_make(const unsigned char random[6], char out[OTD_REFERENCE_LEN + 1])
{
	memcpy(out, PREFIX, PREFIX_LEN);
	for(int i = 0; i < CODE_LEN; i++)
		out[PREFIX_LEN + i] = alphabet[random[i] & 31];
	out[OTD_REFERENCE_LEN] = '\0';
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool in_alphabet(char c)
{
	return c != '\0' && strchr(alphabet, c) != NULL;
}

bool otd_reference_parse(const char *s, char out[OTD_REFERENCE_LEN + 1])
{
	/* Spaces dropped and letters upper-cased, at most "OTD-" and six. */
	char buf[PREFIX_LEN + CODE_LEN + 1];
	size_t n = 0;
	if(!s)
		return false;
	for(; *s; s++) {
		if(*s == ' ')
			continue;
		if(n == sizeof(buf) - 1)
			return false;
		buf[n++] = upper(*s);
	}
	buf[n] = '\0';
	const char *code = buf;
	if(n == PREFIX_LEN + CODE_LEN && memcmp(buf, PREFIX, PREFIX_LEN) == 0)
		code += PREFIX_LEN;
	else if(n == PREFIX_LEN - 1 + CODE_LEN && memcmp(buf, PREFIX, PREFIX_LEN - 1) == 0)
		code += PREFIX_LEN - 1; /* "OTD7K3F9Q" */
	else if(n != CODE_LEN)
		return false;
	for(int i = 0; i < CODE_LEN; i++) {
		if(!in_alphabet(code[i]))
			return false;
	}
	memcpy(out, PREFIX, PREFIX_LEN);
	memcpy(out + PREFIX_LEN, code, CODE_LEN);
	out[OTD_REFERENCE_LEN] = '\0';
	return true;
}

void otd_doorstep_code(const unsigned char key[32], int64_t appointment_id, char out[5])
{
	char msg[48];
	int n = snprintf(msg, sizeof(msg), "doorstep-code:%lld", (long long)appointment_id);
	unsigned char h[16];
	crypto_generichash(h, sizeof(h), (const unsigned char *)msg, (size_t)n, key, 32);
	uint64_t v = 0;
	for(int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	snprintf(out, 5, "%04u", (unsigned)(v % 10000u));
}
