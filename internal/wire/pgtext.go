package wire

import (
	"regexp"
	"strings"
)

var (
	pgSpaces = regexp.MustCompile(`\s+`)
	pgTarget = map[string]*regexp.Regexp{
		"SELECT": regexp.MustCompile(`(?i)^SELECT\b.*?\bFROM\s+([^\s,;()]+)`),
		"INSERT": regexp.MustCompile(`(?i)^INSERT\s+INTO\s+([^\s,;()]+)`),
		"UPDATE": regexp.MustCompile(`(?i)^UPDATE\s+(?:ONLY\s+)?([^\s,;()]+)`),
		"DELETE": regexp.MustCompile(`(?i)^DELETE\s+FROM\s+(?:ONLY\s+)?([^\s,;()]+)`),
	}
)

// maxSQLText bounds the Text of a statement shown whole.
const maxSQLText = 80

// describePostgres names a statement by its verb and gives a short text:
// the verb and the table for SELECT, INSERT, UPDATE and DELETE
// (`UPDATE ghostbench.rows ...`), else the statement itself, shortened.
func describePostgres(sql string) Command {
	s := strings.TrimSpace(pgSpaces.ReplaceAllString(stripSQLComments(sql), " "))
	s = strings.TrimLeft(s, "( ")
	end := 0
	for end < len(s) && (isLetter(s[end]) || s[end] == '_') {
		end++
	}
	name := strings.ToUpper(s[:end])
	if name == "" {
		return Command{Name: "EMPTY", Text: "(empty query)"}
	}
	if re, ok := pgTarget[name]; ok {
		if m := re.FindStringSubmatch(s); m != nil {
			if name == "SELECT" {
				return Command{Name: name, Text: "SELECT ... FROM " + m[1] + " ..."}
			}
			return Command{Name: name, Text: strings.TrimSpace(m[0]) + " ..."}
		}
	}
	if len(s) > maxSQLText {
		s = s[:maxSQLText-3] + "..."
	}
	return Command{Name: name, Text: s}
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// stripSQLComments removes -- and /* */ comments outside quotes.
func stripSQLComments(sql string) string {
	if !strings.Contains(sql, "--") && !strings.Contains(sql, "/*") {
		return sql
	}
	var b strings.Builder
	for i := 0; i < len(sql); i++ {
		switch {
		case sql[i] == '\'' || sql[i] == '"':
			q := sql[i]
			j := i + 1
			for j < len(sql) && sql[j] != q {
				j++
			}
			if j < len(sql) {
				j++
			}
			b.WriteString(sql[i:j])
			i = j - 1
		case strings.HasPrefix(sql[i:], "--"):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
			b.WriteByte(' ')
		case strings.HasPrefix(sql[i:], "/*"):
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return b.String()
			}
			i += j + 3
			b.WriteByte(' ')
		default:
			b.WriteByte(sql[i])
		}
	}
	return b.String()
}
