/*
 * load/spool.c
 *   Spools: COPY rows kept in an unlinked temporary file (in $TMPDIR, else
 *   /tmp) until they are sent. The loader keeps a window's survey_response
 *   rows in one so that they go in as one COPY after the answers (see
 *   window.c), and its rejects in another so that they outlive a rolled-back
 *   window. The file is made at the first write and emptied, not closed,
 *   between windows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "load/load_int.h"

/* spool_open: an unlinked temporary file in $TMPDIR (else /tmp). */
static FILE *
spool_open(const char *what)
{
	const char *dir = getenv("TMPDIR");
	char		path[4096];
	int			fd;
	FILE	   *f;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	if (snprintf(path, sizeof(path), "%s/wvetl-spool.XXXXXX", dir) >= (int) sizeof(path))
	{
		log_error("load", "%s: TMPDIR is too long", what);
		return NULL;
	}
	fd = mkstemp(path);
	if (fd < 0)
	{
		log_error("load", "%s: cannot create a temporary file in %s: %s (set TMPDIR to a "
				  "writable directory)", what, dir, strerror(errno));
		return NULL;
	}
	(void) unlink(path);
	f = fdopen(fd, "w+");
	if (f == NULL)
	{
		log_error("load", "%s: %s", what, strerror(errno));
		close(fd);
	}
	return f;
}

/* spool_write: append len bytes. False on failure (logged, e.g. a full
 * disk: the window then fails and is rolled back). */
bool
spool_write(Spool *s, const char *what, const char *data, size_t len)
{
	if (len == 0)
		return true;
	if (s->f == NULL && (s->f = spool_open(what)) == NULL)
		return false;
	if (fwrite(data, 1, len, s->f) != len)
	{
		log_error("load", "%s: cannot write to a temporary file: %s", what, strerror(errno));
		return false;
	}
	s->bytes += len;
	return true;
}

/*
 * spool_send: send everything written since the last reset to the COPY in
 * progress on conn. False on failure (logged); the caller ends the COPY
 * (aborting it).
 */
bool
spool_send(Spool *s, PGconn *conn, const char *what)
{
	char		chunk[1 << 16];
	size_t		n;

	if (s->bytes == 0)
		return true;
	if (fflush(s->f) != 0 || fseek(s->f, 0, SEEK_SET) != 0)
	{
		log_error("load", "%s: cannot read back a temporary file: %s", what, strerror(errno));
		return false;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), s->f)) > 0)
	{
		if (!pg_copy_send(conn, what, chunk, n))
			return false;
	}
	if (ferror(s->f))
	{
		log_error("load", "%s: cannot read back a temporary file: %s", what, strerror(errno));
		return false;
	}
	return true;
}

/* spool_reset: empty the spool (keeps the file); a file that cannot be
 * truncated is closed, and a new one is made at the next write. */
void
spool_reset(Spool *s)
{
	if (s->f != NULL && s->bytes > 0)
	{
		rewind(s->f);
		if (ftruncate(fileno(s->f), 0) != 0)
		{
			fclose(s->f);
			s->f = NULL;
		}
	}
	s->bytes = 0;
}

/* spool_free: close the file; s is an empty spool afterwards. */
void
spool_free(Spool *s)
{
	if (s->f != NULL)
		fclose(s->f);
	s->f = NULL;
	s->bytes = 0;
}
