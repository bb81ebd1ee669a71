#include "cli/command.hpp"

int main(int argc, char** argv) { return affine::cli::run(argc, argv); }
