/* SPDX-License-Identifier: BSD-3-Clause */
/* A main for a fuzz target without libFuzzer: runs every input of the
 * target's corpus (tests/fuzz/corpus/<target>/) and of the inputs kept from
 * past findings (tests/fuzz/regress/<target>/) once, or the files named on
 * the command line, and prints one TAP line per input. A finding crashes
 * (the sanitizer build reports it); a target with no input fails. The
 * target is named by the program: test_fuzz_opts runs fuzz_opts. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_n;
/* TAP goes to a copy of the original stdout: a target may take stdout
 * over (fuzz_rankinfo captures what the report prints). */
static FILE *replay_tap;

/* Runs one file through the target. \return 0, or -1 if unreadable. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0;
	size_t cap = 0;
	size_t n;

	if (!f)
		return -1;
	do {
		if (len == cap) {
			uint8_t *p = realloc(buf, cap = cap ? 2 * cap : 4096);

			if (!p) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	fprintf(replay_tap, "ok %d - %s (%zu bytes)\n", ++replay_n, path, len);
	fflush(replay_tap);
	return 0;
}

/* Every regular file of dir, in readdir order. */
static void replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_name[0] == '.' || stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		if (replay_file(path))
			fprintf(replay_tap, "not ok %d - %s: unreadable\n", ++replay_n,
				path);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');
	const char *name = slash ? slash + 1 : argv[0];
	char dir[4096];

	replay_tap = fdopen(dup(STDOUT_FILENO), "w");
	if (!replay_tap)
		return 1;
	if (!strncmp(name, "test_", 5))
		name += 5;
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (replay_file(argv[i]))
				fprintf(replay_tap, "not ok %d - %s: unreadable\n",
					++replay_n, argv[i]);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", RB_SRCDIR, name);
	replay_dir(dir);
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/regress/%s", RB_SRCDIR, name);
	replay_dir(dir);
	if (!replay_n) {
		fprintf(replay_tap, "not ok 1 - %s: no input in tests/fuzz/corpus/%s\n",
			name, name);
		return 1;
	}
	return 0;
}
