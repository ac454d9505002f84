package render

import "testing"

// Register refuses what would make the registry lie: a format it does not
// list (help and completion would not offer it), a second printer for a
// view, a machine format (kubectl's printers print those).
func TestRegisterRefusesWhatTheRegistryCannotHold(t *testing.T) {
	for name, f := range map[string]Format{
		"unlisted":       {Name: "nosuchformat", Render: map[View]RenderFunc{ViewAudit: Table}},
		"second printer": {Name: Default, Render: map[View]RenderFunc{ViewAudit: Table}},
		"second fleet":   {Name: "wide", Fleet: map[View]FleetRenderFunc{ViewAudit: FleetTable}},
		"machine":        {Name: "json", Machine: true},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Register(%+v) did not panic", name, f)
				}
			}()
			Register(f)
		}()
	}
}
