/* Test-only helper for the Xen system test: creates and destroys an empty
 * domain and moves a CPU in and out of cpupool 0, the things `affine xen`
 * deliberately does not do. Linked against libxenctrl (affine itself only
 * dlopens it).
 *
 *   xen_domain create VCPUS MIB [NODES]   create a PV domain with VCPUS vCPUs,
 *                                         node affinity NODES (a hex node mask,
 *                                         explicit) set before MIB MiB are
 *                                         populated; prints the domid
 *   xen_domain create-allocated VCPUS MIB [NODES]
 *                                         the same, with every vCPU allocated
 *                                         (XEN_DOMCTL_max_vcpus) before the
 *                                         memory is populated, as a toolstack
 *                                         does before it builds the guest
 *   xen_domain destroy DOMID
 *   xen_domain pool-remove-cpu CPU        remove CPU from cpupool 0
 *   xen_domain pool-add-cpu CPU           add CPU back to cpupool 0
 *
 * Exit status 0 on success; 1 with "xen_domain: what: strerror" otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>

static int fail(const char *what)
{
    fprintf(stderr, "xen_domain: %s: %s (errno %d)\n", what, strerror(errno), errno);
    return 1;
}

static int create(xc_interface *xch, unsigned vcpus, unsigned long mib, const char *nodes, int allocate)
{
    struct xen_domctl_createdomain config;
    uint32_t domid = 0;
    unsigned long pages = mib * 256, i;
    xen_pfn_t *pfns;

    memset(&config, 0, sizeof(config));
    config.max_vcpus = vcpus;
    config.max_evtchn_port = -1;
    config.max_grant_frames = 4;
    config.max_maptrack_frames = 128;
    config.grant_opts = XEN_DOMCTL_GRANT_version(1);
    if (xc_domain_create(xch, &domid, &config) != 0)
        return fail("xc_domain_create");
    if (nodes != NULL) {
        int size = xc_get_nodemap_size(xch);
        unsigned long long mask = strtoull(nodes, NULL, 16);
        uint8_t *map = calloc((size_t)size, 1);
        int b;
        for (b = 0; b < size && b < 8; b++)
            map[b] = (uint8_t)(mask >> (8 * b));
        if (xc_domain_node_setaffinity(xch, domid, map) != 0)
            return fail("xc_domain_node_setaffinity");
        free(map);
    }
    if (allocate && xc_domain_max_vcpus(xch, domid, vcpus) != 0)
        return fail("xc_domain_max_vcpus");
    if (xc_domain_setmaxmem(xch, domid, (uint64_t)mib * 1024 + 1024) != 0)
        return fail("xc_domain_setmaxmem");
    pfns = calloc(pages, sizeof(*pfns));
    for (i = 0; i < pages; i++)
        pfns[i] = i;
    if (pages > 0 && xc_domain_populate_physmap_exact(xch, domid, pages, 0, 0, pfns) != 0)
        return fail("xc_domain_populate_physmap_exact");
    free(pfns);
    printf("%u\n", domid);
    return 0;
}

int main(int argc, char **argv)
{
    xc_interface *xch;
    int rc = 2;

    if (argc < 3) {
        fprintf(stderr, "usage: xen_domain create|create-allocated VCPUS MIB [NODES] | destroy DOMID | "
                        "pool-remove-cpu CPU | pool-add-cpu CPU\n");
        return 2;
    }
    xch = xc_interface_open(NULL, NULL, 0);
    if (xch == NULL)
        return fail("xc_interface_open");
    if (strcmp(argv[1], "create") == 0 && argc >= 4)
        rc = create(xch, (unsigned)atoi(argv[2]), strtoul(argv[3], NULL, 10), argc > 4 ? argv[4] : NULL, 0);
    else if (strcmp(argv[1], "create-allocated") == 0 && argc >= 4)
        rc = create(xch, (unsigned)atoi(argv[2]), strtoul(argv[3], NULL, 10), argc > 4 ? argv[4] : NULL, 1);
    else if (strcmp(argv[1], "destroy") == 0)
        rc = xc_domain_destroy(xch, (uint32_t)atoi(argv[2])) == 0 ? 0 : fail("xc_domain_destroy");
    else if (strcmp(argv[1], "pool-remove-cpu") == 0)
        rc = xc_cpupool_removecpu(xch, 0, atoi(argv[2])) == 0 ? 0 : fail("xc_cpupool_removecpu");
    else if (strcmp(argv[1], "pool-add-cpu") == 0)
        rc = xc_cpupool_addcpu(xch, 0, atoi(argv[2])) == 0 ? 0 : fail("xc_cpupool_addcpu");
    else
        fprintf(stderr, "xen_domain: unknown command %s\n", argv[1]);
    xc_interface_close(xch);
    return rc;
}
