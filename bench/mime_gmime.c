/*
 * mime_gmime: the GMime 3 side of bench/mime, doing what mime_cachet
 * does: parse each message from memory (g_mime_parser_construct_message),
 * then decode it fully: every text part to UTF-8 text
 * (g_mime_text_part_get_text: transfer encoding and charset), every
 * other leaf part's transfer encoding (g_mime_data_wrapper_write_to_stream
 * into a memory stream), the Subject of every message (decoded by
 * g_mime_message_get_subject), into message/rfc822 parts too.  Built by
 * bench/mime with -O2:
 *
 *	mime_gmime LIST-FILE MEGABYTES
 */
#include <gmime/gmime.h>

#include "mime_load.h"

struct gm_count {
	size_t	parts;
	size_t	out;
};

static void	gm_message(GMimeMessage *, struct gm_count *);

static void
gm_part(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	struct gm_count	*c = data;

	(void)parent;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));

		if (inner != NULL)
			gm_message(inner, c);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	c->parts++;
	if (GMIME_IS_TEXT_PART(obj)) {
		char	*text = g_mime_text_part_get_text(
		    GMIME_TEXT_PART(obj));

		if (text != NULL) {
			c->out += strlen(text);
			g_free(text);
		}
	} else {
		GMimeDataWrapper	*w = g_mime_part_get_content(
		    GMIME_PART(obj));
		GMimeStream		*s;

		if (w == NULL)
			return;
		s = g_mime_stream_mem_new();
		c->out += (size_t)g_mime_data_wrapper_write_to_stream(w, s);
		g_object_unref(s);
	}
}

static void
gm_message(GMimeMessage *msg, struct gm_count *c)
{
	const char	*subject = g_mime_message_get_subject(msg);

	if (subject != NULL)
		c->out += strlen(subject);
	if (msg->mime_part != NULL && !GMIME_IS_MULTIPART(msg->mime_part))
		gm_part(NULL, msg->mime_part, c);
	else
		g_mime_message_foreach(msg, gm_part, c);
}

int
main(int argc, char **argv)
{
	struct bench_msg	*msgs;
	struct gm_count		 c = { 0, 0 };
	size_t			 n, i, target, done = 0, nmsg = 0;
	double			 t0, t1;

	if (argc != 3) {
		fprintf(stderr, "usage: mime_gmime LIST-FILE MEGABYTES\n");
		return 2;
	}
	g_mime_init();
	msgs = bench_load(argv[1], &n);
	target = strtoul(argv[2], NULL, 10) * 1024 * 1024;
	t0 = bench_now();
	while (done < target && n > 0) {
		for (i = 0; i < n && done < target; i++) {
			GMimeStream	*s;
			GMimeParser	*p;
			GMimeMessage	*msg;

			s = g_mime_stream_mem_new_with_buffer(msgs[i].data,
			    msgs[i].len);
			p = g_mime_parser_new_with_stream(s);
			msg = g_mime_parser_construct_message(p, NULL);
			if (msg != NULL) {
				gm_message(msg, &c);
				g_object_unref(msg);
			}
			g_object_unref(p);
			g_object_unref(s);
			done += msgs[i].len;
			nmsg++;
		}
	}
	t1 = bench_now();
	printf("%zu %.6f %zu %zu %zu\n", done, t1 - t0, nmsg, c.parts, c.out);
	g_mime_shutdown();
	return 0;
}
