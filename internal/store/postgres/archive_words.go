package postgres

// The words of full-text search, folded in Go alike for the index and
// for queries.

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxLexeme is PostgreSQL's limit on the length of one tsvector lexeme.
const maxLexeme = 2046

// searchWords splits text into the words full-text search matches on:
// runs of letters and digits, lower-cased and without diacritics (so
// "Café" matches "cafe"), as SQLite's unicode61 tokenizer with
// remove_diacritics does. Words too long for a lexeme are dropped.
func searchWords(text string) []string {
	fields := strings.FieldsFunc(norm.NFD.String(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Mn, r)
	})
	words := fields[:0]
	for _, f := range fields {
		w := strings.ToLower(strings.Map(func(r rune) rune {
			if unicode.Is(unicode.Mn, r) {
				return -1
			}
			return r
		}, f))
		if w != "" && len(w) <= maxLexeme && utf8.ValidString(w) {
			words = append(words, w)
		}
	}
	return words
}

// ownerLexeme is the lexeme that tags an owner's messages in words: the
// owner in hex, or for an owner too long for a lexeme (a room JID may
// take 3 KiB) "h" and the hex of its SHA-256, which no hex can equal.
func ownerLexeme(owner string) string {
	if len(owner) > maxLexeme/2-1 {
		sum := sha256.Sum256([]byte(owner))
		return "_h" + hex.EncodeToString(sum[:])
	}
	return "_" + hex.EncodeToString([]byte(owner))
}

// indexWords is the words column of a message, as a space-separated list
// for array_to_tsvector: the owner's tag and the words, or nothing for a
// message without text (no search can match it).
func indexWords(owner, text string) string {
	words := searchWords(text)
	if len(words) == 0 {
		return ""
	}
	return ownerLexeme(owner) + " " + strings.Join(words, " ")
}

// searchQuery is the tsquery of a search: the owner's tag and every word.
// Lexemes hold only letters, digits, '_' and hex, so quoting them needs no
// escapes. It returns "" when text has no word (no text filter).
func searchQuery(owner, text string) string {
	words := searchWords(text)
	if len(words) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("'" + ownerLexeme(owner) + "'")
	for _, w := range words {
		b.WriteString(" & '" + w + "'")
	}
	return b.String()
}
