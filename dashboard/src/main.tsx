/** Entry point: replaces the page's loading line with the shell. */
import { render } from 'preact';
import { App } from './app.js';
import './styles.css';

const root = document.getElementById('app')!;
root.textContent = ''; // render() adds to what is there; the loading line goes
render(<App />, root);
