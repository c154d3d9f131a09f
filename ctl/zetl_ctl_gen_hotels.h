/*  zetl_ctl_gen_hotels - zetlctl gen hotels: the hotels lookup table as CSV

    Private to ctl/. zetl_ctl_gen hands it the command line when the word
    after gen is "hotels". It writes hotel_id,hotel_name,region,city for
    hotel ids 1..N (the ids the bookings stream uses are 1..500), the names,
    regions and cities drawn from small fixed lists by PRNG stream 3 of the
    seed (zetl_rng): the same options give byte-identical output on any
    machine. zetlctl lut load --table hotels --key hotel_id loads it.
*/
#ifndef ZETL_CTL_GEN_HOTELS_H_INCLUDED
#define ZETL_CTL_GEN_HOTELS_H_INCLUDED

//  zetlctl gen hotels [--hotels N] [--seed S] [--output FILE]: ARGV[0] is
//  "hotels". Returns the exit code: 0 success, 1 failure, 2 bad usage.
int zetl_ctl_gen_hotels (int argc, char **argv);

#endif
