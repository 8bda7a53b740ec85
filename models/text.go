package models

import (
	"fmt"
	"unicode/utf8"
)

// Text the stores keep exactly as sent. PostgreSQL cannot store U+0000 in a text column, and
// Go's JSON decoder turns invalid UTF-8 and unpaired UTF-16 surrogate escapes into U+FFFD,
// which would store a different string than the one sent (and could make two different ids
// equal). The GraphQL layer therefore rewrites every such sequence of a request into
// InvalidTextMarker before decoding it, and every text check refuses the marker, so invalid
// text is refused at its path instead of being stored altered. U+FFFD itself is valid text.

// InvalidTextMarker stands for a byte sequence of a request that was not valid text: invalid
// UTF-8 or an unpaired surrogate escape. It is the noncharacter U+FFFF, which Unicode reserves
// for internal use and which no valid input needs.
const InvalidTextMarker = '\uFFFF'

// TextProblem describes why s is not text the API accepts, or returns "" when it is: s must be
// valid UTF-8 without U+0000 and without Unicode noncharacters (U+FDD0-U+FDEF and the last two
// code points of every plane, among them InvalidTextMarker). The check is one pass over s.
func TextProblem(s string) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, w := utf8.DecodeRuneInString(s[i:]); w == 1 {
				return "is not valid UTF-8"
			}
		case r == 0:
			return "contains U+0000 (NUL), which cannot be stored"
		case isNoncharacter(r):
			return fmt.Sprintf("is not valid text: it holds invalid UTF-8, an unpaired surrogate or the noncharacter U+%04X", r)
		}
	}
	return ""
}

// ValidText reports whether TextProblem(s) is "".
func ValidText(s string) bool { return TextProblem(s) == "" }

func isNoncharacter(r rune) bool {
	return r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE
}
