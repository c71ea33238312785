// The C side of the resolver trampoline: adapts the const-qualified
// rfl_resolver_callback signature to the Go-exported function.
#include "_cgo_export.h"

bool rfl_go_resolver(void *userdata, const rfl_addr *next_hop, uint32_t *out_igp_cost)
{
    return rflGoResolve(userdata, (rfl_addr *)next_hop, out_igp_cost);
}
