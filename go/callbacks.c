// The C side of the callback trampolines: adapt the const-qualified
// rfl_resolver_callback and rfl_hook_callback signatures to the Go-exported functions.
#include "_cgo_export.h"

bool rfl_go_resolver(void *userdata, const rfl_addr *next_hop, uint32_t *out_igp_cost)
{
    return rflGoResolve(userdata, (rfl_addr *)next_hop, out_igp_cost);
}

uint32_t rfl_go_hook(void *user_data, rfl_direction dir, uint32_t peer, const rfl_route *route,
                     rfl_attr_edit *edit)
{
    return rflGoHook(user_data, dir, peer, (rfl_route *)route, edit);
}
