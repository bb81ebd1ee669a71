#include "command.hpp"

namespace affine::cli {

const std::vector<Command>& command_table() {
    static const std::vector<Command> table = {
        topo_command(),
        calc_command(),
        place_command(),
        xen_command(),
    };
    return table;
}

}  // namespace affine::cli
