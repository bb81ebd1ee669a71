#include "command.hpp"

namespace affine::cli {

const std::vector<Command>& command_table() {
    static const std::vector<Command> table = {
        topo_command(),
        calc_command(),
        show_command(),
        pin_command(),
        bind_command(),
        run_command(),
        migrate_command(),
        shield_command(),
        place_command(),
        weights_command(),
        xen_command(),
        daemon_command(),
        nri_command(),
    };
    return table;
}

const std::vector<RawCommand>& raw_command_table() {
    static const std::vector<RawCommand> table = {
        numad_command(),
    };
    return table;
}

}  // namespace affine::cli
