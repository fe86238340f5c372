package strategies

import "fmt"

// Bool returns the named parameter as a boolean ("true" or "false"), or
// def when unset.
func (p Params) Bool(name string, def bool) (bool, error) {
	switch s := p[name]; s {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, fmt.Errorf("parameter %s = %q: want true or false", name, s)
	}
}
