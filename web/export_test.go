package web

// EventWords is the words pages show for kind, and whether they were
// written for it rather than made up from the kind's halves.
func EventWords(kind string) (string, bool) {
	w, ok := eventWords[kind]
	return w, ok
}
