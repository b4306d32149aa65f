"""HTTP controllers: thin translations between HTTP (Discord, GitHub, REST, web) and the domain."""
