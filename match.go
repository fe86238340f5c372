package ghostbench

// AnyID and AnyKey are the wildcards of a Match's ID and Key.
const (
	AnyID  = -1
	AnyKey = Key(-1)
)

// Match selects passages at an interleaving point: who (an actor kind and
// id) reaches which point on which key. It is the one matcher behind every
// hook that acts on chosen actors at chosen points (the runner's scripted
// Barriers, the faults' app-delay and app-barrier).
//
// An empty Actor matches any actor kind, ID AnyID any actor id and Key
// AnyKey any key; Point always has to be equal. A passage whose context
// carries no Actor is the zero Actor (kind "", id 0).
type Match struct {
	Actor string // actor kind; "" matches any
	ID    int    // actor id; AnyID matches any
	Point Point
	Key   Key // AnyKey matches any
}

// Matches reports whether actor a reaching point p on key k is selected.
func (m Match) Matches(a Actor, p Point, k Key) bool {
	return m.Point == p && (m.Actor == "" || m.Actor == a.Kind) && (m.ID < 0 || m.ID == a.ID) && (m.Key < 0 || m.Key == k)
}
