package match

import (
	"reflect"
	"testing"
)

func TestPatternStems(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{`libjs-jquery|node-jquery`, []string{"node", "libjs"}},
		{`python3?-django|py3-django`, []string{"py3", "python"}},
		{`nginx(-core|-full)?|(lib)?nginx-mod-(mail|stream)`, []string{"nginx", "libnginx"}},
		{`(lib)?ruby(\d+\.\d+)`, []string{"ruby", "libruby"}},
		{`@angular/(core|common)`, []string{"@angular"}},
		{`7-zip (\d+\.\d+)`, []string{"7"}},
		{`qt[a-z0-9]*-(opensource|everywhere)-src|qt6-[a-z0-9-]+`, []string{"qt"}},
		{`golang-(\d+\.\d+)(-go)?`, []string{"golang"}},
		{`(?:azul )?zulu(?: jdk| jre)? \d.*`, []string{"azul", "zulu"}},
		{`(intellij idea|pycharm) (\d{4})`, []string{"pycharm", "intellij"}},
		{`.*-perl`, nil},
		{`(foo|.*bar)`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, ok := patternStems(tt.pattern)
			if ok != (tt.want != nil) || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("patternStems(%q) = %q, %v; want %q", tt.pattern, got, ok, tt.want)
			}
		})
	}
}

// TestBuiltinRulesIndexed keeps every built-in rule out of the list tried
// for every item: each must be found through the leading letters of what
// it matches.
func TestBuiltinRulesIndexed(t *testing.T) {
	m := defaultMatcher(t)
	for _, idx := range []map[string]*keyIndex{m.names, m.srcs} {
		for src, x := range idx {
			for _, r := range x.scan {
				if !r.user {
					t.Errorf("built-in rule %q (%s) is tried for every %s item: give each alternative a literal start", r.ID, r.Selector(), src)
				}
			}
		}
	}
}
