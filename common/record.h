/*
 * common/record.h
 *   The typed survey record: what transform hands to its sink and what load
 *   turns into rows of survey_response and survey_answer. This is the one
 *   data type the stages share; neither stage includes the other's header.
 */
#ifndef WVETL_RECORD_H
#define WVETL_RECORD_H

#include "common/etl.h"

/* Text columns of survey_response, in this order. */
typedef enum SurveyField
{
	SF_CONN_ID = 0,
	SF_AGENT_ID,
	SF_AGENT_NAME,
	SF_AGENT_DNI,
	SF_SKILL_ID,
	SF_SKILL_NAME,
	SF_ANI,
	SF_CUSTOMER_ID,
	SF_TYPE_INTERACTION,
	SF_RESULT,
	SF_VOICE_MESSAGE,
	SF_FEELING,
	SF_COUNT
} SurveyField;

/*
 * PrivacyMode: what happens to a personal value (privacy.ani,
 * privacy.customer_id, privacy.agent_dni): kept as sent, replaced by its
 * keyed HMAC-SHA256, or dropped (NULL). The transform applies it.
 */
typedef enum PrivacyMode
{
	PRIVACY_KEEP = 0,
	PRIVACY_HASH,
	PRIVACY_DROP
} PrivacyMode;

/* One q<N> answer. text is the value as sent (never a placeholder);
 * num is text again when text is a plain decimal number, else NULL. */
typedef struct SurveyAnswer
{
	int32_t		question_no;
	EtlStr		text;
	EtlStr		num;
} SurveyAnswer;

/*
 * SurveyRecord: one record of the report, typed.
 *
 * All EtlStr values are borrowed: valid only during the sink call that
 * receives the record. Text fields are already placeholder-mapped (NULL for
 * "", "-", "--", blanks) and stripped of U+0000; their bytes are otherwise
 * exactly as the API sent them. Numbers, booleans and nested values that
 * stood where text was expected arrive as their JSON text.
 */
typedef struct SurveyRecord
{
	EtlStr		field[SF_COUNT];

	int64_t		answered_at;	/* the record's `date`, seconds since epoch (UTC) */

	bool		has_duration;	/* the record's `time` */
	int32_t		duration_s;
	bool		has_vm_duration;	/* `voice_message_duration` */
	int32_t		vm_duration_s;

	/* JSON object text of unknown keys, untypable values and notes
	 * (e.g. "_nul_removed"), or NULL when there is nothing to keep. */
	EtlStr		extras;

	const SurveyAnswer *answers;	/* sorted by question_no, unique */
	size_t		n_answers;

	/* The record as sent, written again as compact JSON from the original
	 * values (keys in the order sent; U+0000 as \u0000, a lone surrogate as
	 * its \uXXXX escape, every other byte unchanged); set only when the
	 * transform was asked for it (want_raw, for `wvetl extract` and the
	 * archive of a protected operation). The typed fields above are
	 * cleaned; raw is not. Personal values are protected in both
	 * (TransformPrivacy, transform/transform.h). */
	EtlStr		raw;

	uint64_t	seq;			/* 0-based position of the record in the body */
} SurveyRecord;

#endif							/* WVETL_RECORD_H */
