/** Style sheets imported for their effect: the bundler writes them into app.css. */
declare module '*.css';
