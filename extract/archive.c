/*
 * extract/archive.c
 *   The raw archive (every response body kept gzipped, written under a
 *   temporary name and renamed when complete; archive_prune deletes the
 *   old ones) and extract_file, which reads a saved body back (plain or
 *   gzip). Fills errbufs; never logs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "common/wvtime.h"
#include "extract/extract.h"

#define ARCHIVE_DIR_MODE	0750
/* Files are 0600 (mkostemp's mode): bodies hold phone numbers and names. */
#define ARCHIVE_GZ_MODE		"wb6"
#define EXTRACT_CHUNK		(64 * 1024)

struct Archive
{
	gzFile		gz;				/* writes through a dup of fd */
	int			fd;				/* kept to fsync after gzclose */
	char	   *path;			/* final name; owned */
	char	   *tmp;			/* path.tmp.XXXXXX, made unique by mkostemp; owned */
	bool		failed;			/* sticky: a write failed */
	char		err[128];		/* why, for archive_finish and _commit */
};

static void archive_sanitize(const char *in, char *out, size_t outlen);
static bool archive_mkdirs(char *dir, char *errbuf);
static bool archive_paths(Archive *a, const char *dir, const char *operation,
						  const char *report, int64_t from, int64_t to,
						  char *errbuf);
static bool archive_create(Archive *a, char *errbuf);
static void archive_free(Archive *a);
static void archive_gzerror(Archive *a);

/*
 * archive_sanitize: make in safe as one path component: only [A-Za-z0-9._-]
 * survive, others become '_'; a leading '.' too, so the result can never be
 * ".", ".." or hidden. An empty name becomes "_".
 */
static void
archive_sanitize(const char *in, char *out, size_t outlen)
{
	size_t		i;

	for (i = 0; in != NULL && in[i] != '\0' && i + 1 < outlen; i++)
	{
		char		ch = in[i];
		bool		ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			(ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';

		out[i] = (ok && !(i == 0 && ch == '.')) ? ch : '_';
	}
	if (i == 0 && outlen > 1)
		out[i++] = '_';
	out[i] = '\0';
}

/*
 * archive_mkdirs: mkdir -p dir (modified in place while walking, restored
 * before returning). Existing directories are fine.
 */
static bool
archive_mkdirs(char *dir, char *errbuf)
{
	char	   *p;
	char		saved;

	for (p = dir + 1;; p++)
	{
		if (*p != '/' && *p != '\0')
			continue;
		saved = *p;
		*p = '\0';
		if (mkdir(dir, ARCHIVE_DIR_MODE) != 0 && errno != EEXIST)
		{
			etl_seterr(errbuf, "cannot create directory %s: %s", dir, strerror(errno));
			*p = saved;
			return false;
		}
		*p = saved;
		if (saved == '\0')
			return true;
	}
}

/*
 * archive_paths: fill a->path and a->tmp, creating the directories.
 * DIR/OPERATION/YYYY/MM/REPORT_FROM_TO.json.gz, YYYY and MM from FROM.
 */
static bool
archive_paths(Archive *a, const char *dir, const char *operation,
			  const char *report, int64_t from, int64_t to, char *errbuf)
{
	char		op[128];
	char		rep[128];
	char		cfrom[32];
	char		cto[32];
	char	   *sub = NULL;
	bool		ok = false;

	archive_sanitize(operation, op, sizeof(op));
	archive_sanitize(report, rep, sizeof(rep));
	wvtime_format_compact(from, cfrom);
	wvtime_format_compact(to, cto);

	if (asprintf(&sub, "%s/%s/%.4s/%.2s", dir, op, cfrom, cfrom + 4) < 0)
	{
		sub = NULL;
		etl_seterr(errbuf, "out of memory");
		goto cleanup;
	}
	if (!archive_mkdirs(sub, errbuf))
		goto cleanup;
	if (asprintf(&a->path, "%s/%s_%s_%s.json.gz", sub, rep, cfrom, cto) < 0)
	{
		a->path = NULL;
		etl_seterr(errbuf, "out of memory");
		goto cleanup;
	}
	if (asprintf(&a->tmp, "%s.tmp.XXXXXX", a->path) < 0)
	{
		a->tmp = NULL;
		etl_seterr(errbuf, "out of memory");
		goto cleanup;
	}
	ok = true;

cleanup:
	free(sub);
	return ok;
}

/*
 * archive_create: create a->tmp under a name no one could have guessed
 * (mkostemp fills its XXXXXX: O_CREAT | O_EXCL, so it never opens a file
 * or follows a symbolic link someone planted there, mode 0600), and a
 * gzip stream on a dup of its descriptor (gzclose closes the dup; a->fd
 * stays ours for fsync).
 */
static bool
archive_create(Archive *a, char *errbuf)
{
	int			gzfd;

	a->fd = mkostemp(a->tmp, O_CLOEXEC);
	if (a->fd < 0)
	{
		etl_seterr(errbuf, "cannot create %s: %s", a->tmp, strerror(errno));
		return false;
	}
	gzfd = dup(a->fd);
	if (gzfd < 0)
	{
		etl_seterr(errbuf, "cannot write %s: %s", a->tmp, strerror(errno));
		return false;
	}
	a->gz = gzdopen(gzfd, ARCHIVE_GZ_MODE);
	if (a->gz == NULL)
	{
		close(gzfd);
		etl_seterr(errbuf, "cannot start gzip stream in %s", a->tmp);
		return false;
	}
	if (gzbuffer(a->gz, EXTRACT_CHUNK) != 0)
	{
		etl_seterr(errbuf, "cannot size gzip buffer for %s", a->tmp);
		return false;
	}
	return true;
}

/* archive_free: close whatever is open and free a (files are left alone). */
static void
archive_free(Archive *a)
{
	if (a == NULL)
		return;
	if (a->gz != NULL)
		(void) gzclose_w(a->gz);
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	free(a->tmp);
	free(a);
}

/* archive_gzerror: remember the stream's error for archive_commit. */
static void
archive_gzerror(Archive *a)
{
	int			zerr = Z_OK;
	const char *msg = gzerror(a->gz, &zerr);

	a->failed = true;
	if (zerr == Z_ERRNO)
		msg = strerror(errno);
	snprintf(a->err, sizeof(a->err), "%s", msg != NULL ? msg : "unknown error");
}

/*
 * archive_open: see extract.h. Returns a new Archive the caller must end
 * with archive_commit or archive_abort; NULL on failure (errbuf says why,
 * and nothing is left on disk but possibly empty directories).
 */
Archive *
archive_open(const char *dir, const char *operation, const char *report,
			 int64_t from, int64_t to, char *errbuf)
{
	Archive    *a;

	if (dir == NULL || dir[0] == '\0')
	{
		etl_seterr(errbuf, "no archive directory");
		return NULL;
	}
	a = calloc(1, sizeof(Archive));
	if (a == NULL)
	{
		etl_seterr(errbuf, "out of memory");
		return NULL;
	}
	a->fd = -1;
	if (!archive_paths(a, dir, operation, report, from, to, errbuf))
	{
		archive_free(a);
		return NULL;
	}
	if (!archive_create(a, errbuf))
	{
		if (a->fd >= 0)
			unlink(a->tmp);
		archive_free(a);
		return NULL;
	}
	return a;
}

/*
 * archive_write: append len bytes. False (and the archive is failed: commit
 * will refuse it) when gzip or the disk refuse them. NULL a: true.
 */
bool
archive_write(Archive *a, const char *data, size_t len)
{
	if (a == NULL)
		return true;
	if (a->failed)
		return false;
	while (len > 0)
	{
		/* gzwrite takes an unsigned int and returns an int */
		unsigned int n = len > INT_MAX ? INT_MAX : (unsigned int) len;

		if (gzwrite(a->gz, data, n) != (int) n)
		{
			archive_gzerror(a);
			return false;
		}
		data += n;
		len -= n;
	}
	return true;
}

/*
 * archive_finish: end the gzip stream and fsync the temporary file, so that
 * the file is whole on disk before anything counts on it (the window's
 * commit, then archive_commit). False, errbuf saying why, when the disk
 * refused any of it (full, gone): then the archive is failed and
 * archive_commit refuses it too. Finishing twice is fine. NULL a: true.
 */
bool
archive_finish(Archive *a, char *errbuf)
{
	int			zrc;

	if (a == NULL)
		return true;
	if (!a->failed && a->gz != NULL)
	{
		zrc = gzclose_w(a->gz);
		a->gz = NULL;
		if (zrc != Z_OK)
		{
			a->failed = true;
			snprintf(a->err, sizeof(a->err), "%s",
					 zrc == Z_ERRNO ? strerror(errno) : zError(zrc));
		}
		else if (fsync(a->fd) != 0)
		{
			a->failed = true;
			snprintf(a->err, sizeof(a->err), "fsync: %s", strerror(errno));
		}
	}
	if (a->failed)
		etl_seterr(errbuf, "cannot write %s: %s", a->tmp, a->err);
	return !a->failed;
}

/*
 * archive_commit: finish the file (archive_finish) and rename it to its
 * final name. Frees a whatever happens; on failure the temporary file is
 * removed and errbuf says why. NULL a: true.
 */
bool
archive_commit(Archive *a, char *errbuf)
{
	bool		ok = false;

	if (a == NULL)
		return true;
	if (!archive_finish(a, errbuf))
		goto cleanup;
	if (rename(a->tmp, a->path) != 0)
	{
		etl_seterr(errbuf, "cannot rename %s to %s: %s", a->tmp, a->path,
				   strerror(errno));
		goto cleanup;
	}
	ok = true;

cleanup:
	if (!ok)
		unlink(a->tmp);
	archive_free(a);
	return ok;
}

/* archive_abort: drop the temporary file and free a. NULL a: no-op. */
void
archive_abort(Archive *a)
{
	if (a == NULL)
		return;
	if (a->gz != NULL)
		(void) gzclose_w(a->gz);
	a->gz = NULL;
	unlink(a->tmp);
	archive_free(a);
}

/*
 * extract_file: see extract.h. gzread reads plain files transparently, so
 * one loop serves both. A truncated gzip file is a read error (zlib reports
 * "unexpected end of file"). Errbuf: the cause, or "stopped" when the sink
 * said stop (its own reason is its own).
 */
bool
extract_file(const char *path, ExtractSink sink, void *ctx, char *errbuf)
{
	gzFile		gz = NULL;
	char	   *chunk = NULL;
	bool		ok = false;
	int			n;
	int			zerr = Z_OK;

	chunk = malloc(EXTRACT_CHUNK);
	if (chunk == NULL)
	{
		etl_seterr(errbuf, "out of memory");
		goto cleanup;
	}
	errno = 0;
	gz = gzopen(path, "rb");
	if (gz == NULL)
	{
		etl_seterr(errbuf, "cannot open %s: %s", path,
				   errno ? strerror(errno) : "out of memory");
		goto cleanup;
	}
	while ((n = gzread(gz, chunk, EXTRACT_CHUNK)) > 0)
	{
		if (!sink(ctx, chunk, (size_t) n))
		{
			etl_seterr(errbuf, "stopped");
			goto cleanup;
		}
	}
	/* a truncated gzip stream ends like a file (n == 0) with Z_BUF_ERROR */
	if (n < 0 || (gzerror(gz, &zerr), zerr != Z_OK))
	{
		const char *msg = gzerror(gz, &zerr);

		etl_seterr(errbuf, "cannot read %s: %s", path,
				   zerr == Z_ERRNO ? strerror(errno) : msg);
		goto cleanup;
	}
	ok = true;

cleanup:
	if (gz != NULL)
		(void) gzclose_r(gz);
	free(chunk);
	return ok;
}

/*
 * archive_prune_file: name, in dir, is an archive of report (REPORT_FROM_
 * TO.json.gz, times compact and local) whose window ended at or before
 * `before`: remove it and count it. Any other name is left alone (a
 * temporary file, another report's). False, errbuf set, when it cannot be
 * removed.
 */
static bool
archive_prune_file(const char *dir, const char *name, const char *rep, int64_t before,
				   uint64_t *removed, char *errbuf)
{
	size_t		n = strlen(rep);
	const char *t = name + n + 16;	/* "_" FROM "_" */
	WallTime	w;
	char	   *path = NULL;

	if (strncmp(name, rep, n) != 0 || strlen(name) != n + 38 || name[n] != '_' ||
		name[n + 15] != '_' || strcmp(t + 14, ".json.gz") != 0 ||
		strspn(name + n + 1, "0123456789") != 14 || strspn(t, "0123456789") != 14 ||
		!wvtime_parse_wall(t, 14, &w) || wvtime_local_to_epoch(&w) > before)
		return true;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
	{
		etl_seterr(errbuf, "out of memory");
		return false;
	}
	if (unlink(path) != 0 && errno != ENOENT)
	{
		etl_seterr(errbuf, "cannot remove %s: %s", path, strerror(errno));
		free(path);
		return false;
	}
	(*removed)++;
	free(path);
	return true;
}

/*
 * archive_prune_dir: walk dir, at depth 0 the operation's directory (its
 * YYYY directories), 1 a year's (its MM directories), 2 a month's (the
 * files); a directory left empty is removed. A missing dir is fine.
 */
static bool
archive_prune_dir(const char *dir, int depth, const char *rep, int64_t before,
				  uint64_t *removed, char *errbuf)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	bool		ok = true;

	if (d == NULL)
	{
		if (errno == ENOENT)
			return true;
		etl_seterr(errbuf, "cannot read %s: %s", dir, strerror(errno));
		return false;
	}
	while (ok && (e = readdir(d)) != NULL)
	{
		size_t		len = strlen(e->d_name);
		char	   *sub = NULL;

		if (depth == 2)
		{
			ok = archive_prune_file(dir, e->d_name, rep, before, removed, errbuf);
			continue;
		}
		/* a year (4 digits) or a month (2 digits), as archive_paths names them */
		if (len != (depth == 0 ? 4u : 2u) || strspn(e->d_name, "0123456789") != len)
			continue;
		if (asprintf(&sub, "%s/%s", dir, e->d_name) < 0)
		{
			etl_seterr(errbuf, "out of memory");
			ok = false;
			break;
		}
		ok = archive_prune_dir(sub, depth + 1, rep, before, removed, errbuf);
		if (ok)
			(void) rmdir(sub);	/* fails, as it should, unless it is empty */
		free(sub);
	}
	closedir(d);
	return ok;
}

/* archive_prune: see extract.h. */
bool
archive_prune(const char *dir, const char *operation, const char *report, int64_t before,
			  uint64_t *removed, char *errbuf)
{
	char		op[128];
	char		rep[128];
	char	   *base = NULL;
	bool		ok;

	*removed = 0;
	archive_sanitize(operation, op, sizeof(op));
	archive_sanitize(report, rep, sizeof(rep));
	if (asprintf(&base, "%s/%s", dir, op) < 0)
	{
		etl_seterr(errbuf, "out of memory");
		return false;
	}
	ok = archive_prune_dir(base, 0, rep, before, removed, errbuf);
	free(base);
	return ok;
}
